"""Which national template a report uses, told from its labels, never from its year (spec §1)."""

from __future__ import annotations

from collections.abc import Iterable

from tasks.errors import LegacyTemplate, NoTablesFound
from tasks.template import codes
from tasks.template.labels import LEGACY_MARKERS, TEMPLATE_MARKERS, normalise_label

_MARKERS = {fmt: tuple(normalise_label(m) for m in marks) for fmt, marks in TEMPLATE_MARKERS.items()}
_LEGACY = tuple(normalise_label(m) for m in LEGACY_MARKERS)
DECISIVE = 2


def count_markers(keys: Iterable[str]) -> dict[str, int]:
    """How many distinct markers of each version occur in the given label keys (cells or lines)."""
    text = "\x00".join(keys)  # one search per marker; no marker holds NUL, so none spans two keys
    return {fmt: sum(1 for m in set(marks) if m in text) for fmt, marks in _MARKERS.items()}


def detect_template(table_keys: list[str], all_keys: list[str], year: int | None, *,
                    source: str | None, warnings: list[str]) -> str:
    """fmt_2019 or fmt_2021; raise LegacyTemplate / NoTablesFound when neither fits.

    `table_keys` are the normalised cells of the table sections; `all_keys` every line of the
    document (a report whose table-2 is missing can still show its version in table 3).
    """
    counts = count_markers(table_keys)
    if max(counts.values()) < DECISIVE:
        counts = count_markers(table_keys + all_keys)
    c19, c21 = counts[codes.FMT_2019], counts[codes.FMT_2021]
    if c19 >= DECISIVE or c21 >= DECISIVE:
        if c19 == c21:
            chosen = codes.FMT_2021 if (year or 0) >= 2021 else codes.FMT_2019
            warnings.append(f"template markers tie ({c19} each); chose {chosen} by the year {year}")
        else:
            chosen = codes.FMT_2019 if c19 > c21 else codes.FMT_2021
        if chosen == codes.FMT_2019 and year is not None and year >= 2021:
            warnings.append(f"a {year} report still uses the 2019 trial template")
        return chosen
    text = "".join(all_keys)
    if any(m in text for m in _LEGACY) and "第二十条第(一)项" not in text:
        raise LegacyTemplate("pre-2019 report format (fmt_legacy): no 第二十条 tables of the national "
                             "template; its tables are the organ's own and are not read", source=source)
    if c19 or c21:
        chosen = codes.FMT_2021 if c21 > c19 or (c21 == c19 and (year or 0) >= 2021) else codes.FMT_2019
        warnings.append(f"only {max(c19, c21)} template marker found; chose {chosen}")
        return chosen
    raise NoTablesFound("no statistical tables of the national template (no 第二十条 block, no "
                        "table-3 or table-4 header) were found", source=source)
