"""The 勾稽 suites: every relation instance of the `checks` dataset must have lhs = rhs.

The `checks` frame has one row per relation instance (report × relation × row or column), with
the two sides already computed. One built-in expectation, `ExpectColumnPairValuesToBeEqual`,
then decides for every row; its unexpected rows, indexed by (report_id, check_id, scope), are
exactly the failures to quarantine (strict suite) or to warn about (expected suite).
"""

from __future__ import annotations

from typing import Any

INDEX_COLUMNS = ["report_id", "check_id", "scope"]


def consistency_expectations(severity: str) -> list[Any]:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnPairValuesToBeEqual(
        column_A="lhs", column_B="rhs", ignore_row_if="both_values_are_missing",
        meta={"severity": severity, "notes": "lhs and rhs of each relation of docs/template.md §7"},
    )]
