"""Every exception xxgk raises, in one tree.

    XxgkError                      anything xxgk itself refuses
    ├── CatalogueError             the source catalogue is malformed (checked before any fetch)
    ├── PublishError               a batch failed its schema gate: nothing was published
    ├── SourceError                the source cannot be read at all (missing file, HTTP failure)
    └── ExtractError               the bytes were read but hold no usable report
        ├── UnsupportedFormat      a file type xxgk cannot read (legacy .doc, scanned PDF, …)
        ├── NoTablesFound          no statistical tables (e.g. a listing page linking to reports)
        ├── LegacyTemplate         a pre-2019 report (fmt_legacy): each organ chose its own tables
        └── MissingMetadata        tables found, but no reporting year / organ could be determined

Problems in single cells are *not* exceptions: they are flags on the cell and failed checks on
the report (spec §7, §8.3). An exception means "this document cannot be read"; its message names
the source and the reason in one line, which is what `xxgk extract` prints on stderr.
"""

from __future__ import annotations


class XxgkError(Exception):
    """Base class: a refusal with a one-line reason that names the source."""

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        self.reason = reason
        self.source = source
        super().__init__(f"{source}: {reason}" if source else reason)


class CatalogueError(XxgkError):
    """A catalogue row is malformed: names the file, the line and the column."""


class SettingsError(XxgkError):
    """A run option is invalid: names the option, the value and what it must be."""


class PublishError(XxgkError):
    """A year could not be published (its schema gate failed); published data is untouched."""


class SourceError(XxgkError):
    """The source could not be read (no such file, HTTP error, size cap exceeded)."""


class ExtractError(XxgkError):
    """The document was read but holds no usable annual report."""


class UnsupportedFormat(ExtractError):
    """A document type that xxgk does not read (yet): legacy .doc, scanned PDF, images."""


class NoTablesFound(ExtractError):
    """No statistical tables of the national template in the document."""


class LegacyTemplate(ExtractError):
    """A report in the pre-2019 format (fmt_legacy), whose tables are not comparable."""


class MissingMetadata(ExtractError):
    """The tables were read but the reporting year or the organ could not be determined."""
