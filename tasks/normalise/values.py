"""The value parser: one printed cell in, a typed value and its flags out (spec §8.3).

Input: the cell text exactly as printed (`raw`) and the kind of column it sits in
(`tasks.template.layouts.ValueKind`). Output: `ParsedValue(value, flags)`.

The rules, and why:
* blank (empty, spaces, NBSP) is null with flag `blank`, never 0: nothing says a blank means 0
  (spec §8.2), and the checks treat blanks specially (§7.3).
* `-`, `—`, `/`, `无` alone read as 0 with flag `dash`: reports use them for "none" (S000).
* a count suffix (个 件 项 条 …) is stripped (`unit_stripped`); money units are converted to 万元
  and flagged (`unit=元` …); money in a count column is *not* converted: value null, flag
  `semantic_misuse`, raw kept (S001's 行政事业性收费 3138.14万元).
* a sign is expected only in `signed_count` (本年增/减); elsewhere the signed value is kept so that
  check S6 names it, instead of being silently dropped.
* a bare amount where the template prints no unit (2019 采购总金额) is not guessed: value null,
  flag `unit_unknown` (plus `unit_hint=元` when it is ≥ 10^6); zero is zero in any unit.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tasks.template import codes, units
from tasks.template.layouts import ValueKind

_DASHES = frozenset({"-", "--", "—", "——", "–", "―", "/", "无", "/ ", "\\", "—-"})
_NUMBER = re.compile(
    r"^(?P<sign>[+-])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<unit>[^\d\s]*)$"
)
_BLANKS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """A parsed cell: `value` is int for counts, float (万元) for money, None when blank or unusable."""

    value: int | float | None
    flags: tuple[str, ...] = ()


def _fold(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw)
    text = _BLANKS.sub("", text)
    return text.replace("，", ",").replace("﹢", "+").replace("−", "-")


def _number(match: re.Match[str]) -> Decimal:
    digits = match["int"].replace(",", "")
    if match["frac"]:
        digits += "." + match["frac"]
    number = Decimal(digits)
    return -number if match["sign"] == "-" else number


def _integral(number: Decimal) -> bool:
    return number == number.to_integral_value()


@functools.lru_cache(maxsize=1 << 15)  # a year's cells repeat the same few thousand strings
def parse_value(raw: str, kind: ValueKind) -> ParsedValue:
    """Parse the printed text of one cell of a column of the given kind.

    >>> parse_value("947个", "count")
    ParsedValue(value=947, flags=('unit_stripped',))
    >>> parse_value("1.19亿元", "money_unknown_unit")
    ParsedValue(value=11900.0, flags=('unit=亿元',))
    """
    text = _fold(raw)
    if not text:
        return ParsedValue(None, (codes.FLAG_BLANK,))
    if text in _DASHES:
        return ParsedValue(0.0 if kind.startswith("money") else 0, (codes.FLAG_DASH,))
    match = _NUMBER.match(text)
    if match is None:
        return ParsedValue(None, (codes.FLAG_UNPARSED,))
    number = _number(match)
    unit = match["unit"]
    flags: list[str] = []
    if match["sign"]:
        flags.append(codes.FLAG_SIGNED)

    if unit in units.MONEY_UNITS:
        factor, unit_flag = units.MONEY_UNITS[unit]
        if not kind.startswith("money"):
            return ParsedValue(None, (*flags, codes.FLAG_SEMANTIC_MISUSE))
        return ParsedValue(float(number * factor), (*flags, unit_flag))
    if unit and unit not in units.COUNT_SUFFIXES:
        return ParsedValue(None, (*flags, codes.FLAG_UNPARSED))
    if unit:
        flags.append(codes.FLAG_UNIT_STRIPPED)

    if kind == "money_wan":
        return ParsedValue(float(number), tuple(flags))
    if kind == "money_unknown_unit":
        if number == 0:
            return ParsedValue(0.0, tuple(flags))
        flags.append(codes.FLAG_UNIT_UNKNOWN)
        if abs(number) >= units.YUAN_HINT_THRESHOLD:
            flags.append(codes.FLAG_UNIT_HINT_YUAN)
        return ParsedValue(None, tuple(flags))
    if not _integral(number):
        return ParsedValue(float(number), (*flags, codes.FLAG_NOT_INTEGER))
    try:
        return ParsedValue(int(number), tuple(flags))
    except (InvalidOperation, OverflowError):  # pragma: no cover - Decimal from \d+ is always integral
        return ParsedValue(None, (*flags, codes.FLAG_UNPARSED))
