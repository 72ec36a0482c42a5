"""Great Expectations suites that decide what is published (one module per kind of suite).

* `schema`      -- per dataset of docs/contract.md §2: exact columns, types, code value sets (per
                   template version), value ranges, one row per (report, cell), unique report ids.
                   A failure is a pipeline bug: the year is not published and the run fails.
* `consistency` -- the strict 勾稽 relations S1–S6 (spec §7.1, blank rules §7.3) as
                   lhs = rhs on the `checks` dataset: a failing row names the report, the relation,
                   the row/column (scope), lhs and rhs; the report goes to quarantine/.
* `expected`    -- E1 (carry-over across years), E4, E5 as the same pair expectation on the
                   expected checks: reported as warnings, never blocking.

The relations themselves are computed once, in `tasks/validate/checks.py` (S1–S6) and
`tasks/validate/expected.py` (E1, E4, E5); the suites read their lhs/rhs instead of encoding the
rules a second time. Suites are built in code (reviewed, versioned with the extractor) and run on
an ephemeral GX context inside the flow, before publishing; great_expectations is imported only
when a suite runs (its import takes seconds).
"""
