"""xxgk's stages as plain functions: no Prefect, no network unless asked.

    >>> import tasks
    >>> report = tasks.read_source("data/samples/003_hulunbuir_2022.txt")
    >>> report.meta.template, report.cell("t2.art20_1.normative_docs.in_force").value
    ('fmt_2021', 0)

The Prefect tasks and flows (in `flows/` and `tasks/*/task.py`) are thin orchestration over these.
"""

from tasks.errors import (
    ExtractError,
    LegacyTemplate,
    MissingMetadata,
    NoTablesFound,
    SourceError,
    UnsupportedFormat,
    XxgkError,
)
from tasks.extract.reader import read_document, read_report, read_source
from tasks.model import CellValue, CheckResult, Report, ReportMeta
from tasks.normalise.values import ParsedValue, parse_value

__all__ = [
    "CellValue",
    "CheckResult",
    "ExtractError",
    "LegacyTemplate",
    "MissingMetadata",
    "NoTablesFound",
    "ParsedValue",
    "Report",
    "ReportMeta",
    "SourceError",
    "UnsupportedFormat",
    "XxgkError",
    "parse_value",
    "read_document",
    "read_report",
    "read_source",
]
