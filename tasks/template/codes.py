"""Canonical codes of the template spec (§1, §2, §6, §7, §8.3).

Codes are copied from the spec exactly; every other module refers to these names instead of
repeating string literals, so a typo is an ImportError rather than a silently empty column.
"""

from __future__ import annotations

from typing import Final

# Template versions (spec §1).
FMT_2019: Final = "fmt_2019"
FMT_2021: Final = "fmt_2021"
FMT_LEGACY: Final = "fmt_legacy"
SUPPORTED_TEMPLATES: Final = (FMT_2019, FMT_2021)

# Report sections (spec §2).
SEC_OVERVIEW: Final = "sec_overview"
SEC_PROACTIVE: Final = "sec_proactive"
SEC_REQUESTS: Final = "sec_requests"
SEC_REVIEW_LITIGATION: Final = "sec_review_litigation"
SEC_PROBLEMS: Final = "sec_problems"
SEC_OTHER: Final = "sec_other"
SECTIONS: Final = (SEC_OVERVIEW, SEC_PROACTIVE, SEC_REQUESTS, SEC_REVIEW_LITIGATION, SEC_PROBLEMS, SEC_OTHER)

# Statistical tables.
T2: Final = "t2"
T3: Final = "t3"
T4: Final = "t4"

# Cell flags (spec §8.3, outputs §1). Flags describe a single cell; they never raise.
FLAG_BLANK: Final = "blank"                    # empty, spaces or NBSP: value is null, not 0
FLAG_DASH: Final = "dash"                      # '-', '—', '/', '无' alone: read as 0
FLAG_UNIT_STRIPPED: Final = "unit_stripped"    # '13件' -> 13
FLAG_SIGNED: Final = "signed"                  # '+5', '-825'
FLAG_UNIT_YUAN: Final = "unit=元"
FLAG_UNIT_WAN: Final = "unit=万元"
FLAG_UNIT_YI: Final = "unit=亿元"
FLAG_UNIT_UNKNOWN: Final = "unit_unknown"      # bare amount where the template prints no unit
FLAG_UNIT_HINT_YUAN: Final = "unit_hint=元"    # ... and it is large enough to be yuan (>= 10^6)
FLAG_SEMANTIC_MISUSE: Final = "semantic_misuse"  # money written in a count column
FLAG_UNPARSED: Final = "unparsed"              # text that is not a number: value null, check S6 fails
FLAG_NOT_INTEGER: Final = "not_integer"        # a fraction in a count column: value kept, S6 fails
FLAG_MISALIGNED: Final = "misaligned"          # a flattened row whose placement is not certain
FLAG_COLLAPSED: Final = "collapsed"            # cell missing from a flattened row (empty cells collapsed)
FLAG_TOTAL_MISSING: Final = "total_missing"    # a blank total next to non-zero components (spec §7.3)
FLAG_LABEL_INFERRED: Final = "label_inferred"  # row label lost (PDF/OCR), placed by template order
FLAG_GROUP_AS_LEAF: Final = "group_as_leaf"  # a group row printed without its sub-rows (2021 （六）其他处理)
FLAG_NOT_PRINTED: Final = "not_printed"        # the report does not print this row or block at all
FLAG_SOLVED: Final = "solved"                  # a capture without cell boundaries: placed by the 勾稽 relations
FLAG_JOINED: Final = "joined"                  # ... from two printed tokens (a number broken over two lines)
FLAG_OCR: Final = "ocr"                        # read by OCR from a scan; the cell's `confidence` is the recognition's
FLAG_OCR_CORRECTED: Final = "ocr_corrected"    # ... and its value replaced: the only one that makes every relation hold
FLAG_BLANK_OR_ZERO: Final = "blank_or_zero"    # ... as 0, though the capture cannot tell a 0 from a blank here

# Check ids and severities (spec §7).
S1: Final = "S1"
S2: Final = "S2"
S3: Final = "S3"
S4: Final = "S4"
S5: Final = "S5"
S6: Final = "S6"
C1: Final = "C1"  # completeness: the tables are printed (not cut off, not empty)
STRICT_CHECKS: Final = (S1, S2, S3, S4, S5, S6, C1)
SEVERITY_STRICT: Final = "strict"
SEVERITY_EXPECTED: Final = "expected"
