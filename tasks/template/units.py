"""Units printed next to values, and their factors to the canonical unit (spec §8.3).

Money is canonical in 万元 (10^4 CNY); counts carry a suffix that is simply stripped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from tasks.template import codes

# Money unit as printed -> (factor to 万元, flag).
MONEY_UNITS: Final[dict[str, tuple[Decimal, str]]] = {
    "元": (Decimal("0.0001"), codes.FLAG_UNIT_YUAN),
    "万元": (Decimal("1"), codes.FLAG_UNIT_WAN),
    "亿元": (Decimal("10000"), codes.FLAG_UNIT_YI),
    "万": (Decimal("1"), codes.FLAG_UNIT_WAN),
    "亿": (Decimal("10000"), codes.FLAG_UNIT_YI),
}

# Suffixes of counts: documents, pieces, items, articles, cases, persons.
COUNT_SUFFIXES: Final = ("个", "件", "项", "条", "宗", "起", "次", "人", "份", "家")

# A bare amount at least this large in a column without a printed unit is probably in 元.
YUAN_HINT_THRESHOLD: Final = Decimal(1_000_000)
