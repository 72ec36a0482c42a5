"""A reporting year from its batches' parts: expected relations, the gate, and the staged year.

    parts of every batch ─▶ pass 1: reports, table-3/table-2 rows E1/E5 need, checks in chunks
                              ─▶ E1/E5: one join against last year's index
                              ─▶ consistency suites (GX) per chunk ─▶ each report's status
                         ─▶ pass 2: every dataset, part by part, split into zones, streamed into
                              the staging files; schema suites (GX) per chunk of rows

Nothing here holds a year of cells: the reports table (one row per report) and last year's index
(about ten values per organ) are the only year-sized frames; everything else is one part or one
chunk of `settings.CHUNK_CELLS` values at a time, so peak memory does not grow with the number of reports.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tasks import schemas, settings
from tasks.batches import batches_root, read_part, write_part_file
from tasks.isolated import run_isolated
from tasks.load.parquet import PART_FILE, StagedYear, read_published_year
from tasks.load.storage import DataDir
from tasks.normalise.summary import summary_frame
from tasks.validate.expected import LAST_YEAR, across_years_frame, last_year_index
from tasks.validate.gate import ConsistencyResult, _Gx, consistency_gate, schema_gate_chunk
from tasks.validate.overrides import Releases
from tasks.validate.route import apply_gate


@dataclass(slots=True)
class YearResult:
    """What the gate decided for a year and where its staged files are (None: nothing staged)."""

    reports: pl.DataFrame  # one row per report, final status and failed_checks
    consistency: ConsistencyResult
    releases_used: list[tuple[str, str]]
    staged: StagedYear | None = None
    schema_problems: list[str] = field(default_factory=list)
    docs: str | None = None
    # Where the whole reports table is, when `reports` holds only `FLOW_COLUMNS` (`gate_with_site`).
    reports_part: str | None = None

    def all_reports(self, data_dir: DataDir) -> pl.DataFrame:
        """The reports table with every column (read back when `reports` was slimmed)."""
        return read_part(data_dir, self.reports_part, "reports") if self.reports_part else self.reports


# The columns of the gate's reports that the flow reads (counts, the quarantine rate, the failure
# list, the gate's artifact) and that staging splits the zones by.
FLOW_COLUMNS: Final = ("report_id", "status", "year", "source", "organ", "template")


def published_last_year(data_dir: DataDir, year: int) -> pl.DataFrame:
    """`last_year_index` of year − 1 as published (curated or quarantined: a report quarantined for its
    table 4 still states what it carried forward), read column- and row-filtered from its files."""
    organs = read_published_year(data_dir, "reports", year - 1, ["report_id", "organ"])
    if organs.height == 0:
        return pl.DataFrame(schema=LAST_YEAR)
    requests = read_published_year(data_dir, "requests", year - 1, ["report_id", "row_code", "column_code", "value"],
                                   [("row_code", "=", "carried_forward")]).join(organs, on="report_id")
    proactive = read_published_year(data_dir, "proactive", year - 1,
                                    ["report_id", "block", "row_code", "column_code", "value"],
                                    [("column_code", "=", "in_force")]).join(organs, on="report_id")
    return last_year_index(requests, proactive)


class _Chunker:
    """Frames in, chunks of about `cells` values out: consecutive frames concatenated, or one frame sliced.

    Counted in values, not rows: a row of `report_summary` holds forty figures, a row of `requests`
    one cell, and GX's copies of a chunk grow with both. A year-sized frame (the reports table) is
    sliced, so no chunk grows with the year. Push-based, so that one pass over a dataset's parts
    can feed a chunker per zone.
    """

    def __init__(self, cells: int | None = None) -> None:
        self.cells = cells or settings.CHUNK_CELLS
        self.buffer: list[pl.DataFrame] = []
        self.size = 0

    def add(self, frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
        rows = max(1, self.cells // max(frame.width, 1))
        for piece in (frame.iter_slices(rows) if frame.height > rows else (frame,)):
            self.buffer.append(piece)
            self.size += piece.height
            if self.size >= rows:
                yield from self.flush()

    def flush(self) -> Iterator[pl.DataFrame]:
        if self.buffer:
            chunk = pl.concat(self.buffer)
            self.buffer, self.size = [], 0
            yield chunk


def zone_rows(frame: pl.DataFrame, report_ids: pl.Series) -> pl.DataFrame:
    """The rows of `frame` whose report is one of `report_ids`, holding only their own data.

    A Polars filter keeps the string views' data buffers of the frame it filtered (a page of
    Parquet, the whole part): a chunker that holds a small zone's slices of every part until they
    fill a chunk then held every part of the year (a staging child of a national year reached
    2.9 GB). A slice of less than half its frame is compacted (an Arrow IPC round trip writes only
    its own bytes), so a chunker holds at most twice its chunk.
    """
    rows = frame.filter(pl.col("report_id").is_in(report_ids.implode()))
    if rows.height == 0 or rows.height * 2 >= frame.height:
        return rows
    buffer = io.BytesIO()
    rows.write_ipc(buffer)
    buffer.seek(0)
    return pl.read_ipc(buffer)


def _chunks(frames: Iterator[pl.DataFrame], cells: int | None = None) -> Iterator[pl.DataFrame]:
    """`frames` in chunks of about `cells` values (`_Chunker`)."""
    chunker = _Chunker(cells)
    for frame in frames:
        yield from chunker.add(frame)
    yield from chunker.flush()


def gate_year(data_dir: DataDir, year: int, parts: list[str], released: Releases,
              gx: Any | None = None) -> tuple[YearResult, str, Any]:
    """Pass 1: the consistency suites over every part's checks and its E1/E5; each report's status.

    E1/E5 are joined part by part against last year's index and written to one file (returned
    with the result and the GX context): pass 2 appends them to the year's checks.
    """
    last = published_last_year(data_dir, year)
    expected_path = f"{batches_root(data_dir, year)}/expected-{uuid.uuid4().hex[:12]}/checks.parquet"
    data_dir.makedirs(expected_path.rsplit("/", 1)[0])
    reports: list[pl.DataFrame] = []
    with data_dir.fs.open_output_stream(expected_path) as stream, \
            pq.ParquetWriter(stream, _arrow_schema("checks"), compression="zstd") as writer:

        def checks() -> Iterator[pl.DataFrame]:
            for part in parts:
                part_reports = read_part(data_dir, part, "reports")
                reports.append(part_reports)
                yield read_part(data_dir, part, "checks")
                expected = across_years_frame(
                    part_reports.filter(pl.col("error").is_null()),
                    read_part(data_dir, part, "requests").filter(pl.col("row_code") == "carried_over"),
                    read_part(data_dir, part, "proactive").filter(pl.col("block") == "art20_1"), last)
                if expected.height:
                    writer.write_table(expected.to_arrow().cast(_arrow_schema("checks")))
                    yield expected

        consistency = ConsistencyResult()
        for i, chunk in enumerate(_chunks(checks(), settings.CONSISTENCY_CHUNK_CELLS)):
            result, gx = consistency_gate(chunk, docs_dir="docs", gx=gx, label=f"_{i}")
            consistency.merge(result)
    year_reports = pl.concat(reports) if reports else pl.DataFrame(schema=schemas.REPORTS)
    failing = {rid: [f.check_id for f in fs] for rid, fs in consistency.failing_reports().items()}
    final, used = apply_gate(year_reports, failing, released)
    return YearResult(final, consistency, used), expected_path, gx


def _arrow_schema(dataset: str) -> pa.Schema:
    return schemas.arrow_schema(dataset)


def gate_with_site(data_dir: str, year: int, parts: list[str], released: Releases
                   ) -> tuple[YearResult, str, str | None]:
    """`gate_year` with its Data Docs rendered: (result, E1/E5 file, site folder); runs in the flow
    process or, for a large year, in a child (`tasks.isolated`)."""
    dd = DataDir(data_dir)
    result, expected, gx = gate_year(dd, year, parts, released)
    # The whole reports table is written beside the E1/E5 file and read back by each staging process;
    # the flow gets the columns it reads: a national year's table, pickled to the flow and from it
    # to six staging processes, held a third of the flow's memory.
    folder = expected.rsplit("/", 1)[0]
    write_part_file(dd, folder, "reports", result.reports, durable=False)
    result.reports, result.reports_part = result.reports.select(FLOW_COLUMNS), folder
    return result, expected, gx.build_site() if gx else None  # no checks (an empty year): no suite ran


@dataclass(frozen=True, slots=True)
class StagedDataset:
    """One dataset staged: its files (staged → live), rows per zone, schema problems, Data Docs site."""

    moves: list[tuple[str, str]]
    rows: dict[str, int]
    problems: list[str]
    site: str | None


# Staged in this order: the largest first, so that two processes in parallel end together.
STAGE_ORDER: Final = ("requests", "checks", "proactive", "report_summary", "review_litigation", "reports")


def stage_parts(data_dir: str, year: int, parts: list[str], result: YearResult, expected: str,
                year_range: tuple[int, int], run_id: str | None = None, isolate: bool = False
                ) -> tuple[YearResult, dict[str, str | None]]:
    """Pass 2: every dataset streamed part by part into its zone's staging file, schema suites per chunk.

    The reports dataset is the gate's table (final status); the checks dataset gets E1/E5 appended.
    Files are the published layout's (`<zone>/<dataset>/<YYYY>/part-0.parquet`), staged under
    `_staging/<year>-<id>/` and published by `tasks.load.parquet.publish` in one journalled step.
    With `isolate`, the datasets are staged in child processes (`tasks.isolated`, `stage_groups`),
    `settings.STAGE_PROCESSES` at a time: the memory of a national year's staging is given back when
    each ends. Returns the result and each dataset's rendered Data Docs site.
    """
    assert set(STAGE_ORDER) == set(schemas.PUBLISHED)
    run_id = run_id or f"{year}-{uuid.uuid4().hex[:12]}"
    args = (data_dir, year, parts, result, expected, year_range, run_id)
    if isolate:
        groups = stage_groups(max(2, settings.STAGE_PROCESSES))  # the largest alone: its memory goes first
        with ThreadPoolExecutor(settings.STAGE_PROCESSES, thread_name_prefix="xxgk-stage") as pool:
            staged_groups = pool.map(lambda g: run_isolated("tasks.year:stage_datasets", g, *args), groups)
            done = {d: s for group, of_group in zip(groups, staged_groups, strict=True)
                    for d, s in zip(group, of_group, strict=True)}
    else:
        done = {dataset: stage_dataset(dataset, *args) for dataset in STAGE_ORDER}
    staged = [done[d] for d in schemas.PUBLISHED]
    result.staged = StagedYear(run_id, year, tuple(m for s in staged for m in s.moves),
                               {k: v for s in staged for k, v in s.rows.items()})
    result.schema_problems = [p for s in staged for p in s.problems]
    return result, {d: done[d].site for d in schemas.PUBLISHED}


def stage_groups(processes: int) -> list[tuple[str, ...]]:
    """`STAGE_ORDER` in at most `processes` groups, a child process each: the largest datasets alone,
    the small ones together, so a child pays Great Expectations' ~5 s import once, not once per dataset."""
    n = max(1, min(processes, len(STAGE_ORDER)))
    return [(d,) for d in STAGE_ORDER[:n - 1]] + [STAGE_ORDER[n - 1:]]


def stage_datasets(datasets: tuple[str, ...], *args: Any) -> list[StagedDataset]:
    """`stage_dataset` of each of `datasets`, one after another (one child process of `stage_parts`)."""
    return [stage_dataset(dataset, *args) for dataset in datasets]


def stage_dataset(dataset: str, data_dir: str, year: int, parts: list[str], result: YearResult, expected: str,
                  year_range: tuple[int, int], run_id: str) -> StagedDataset:
    """One dataset of `stage_parts`, with a GX context (and Data Docs site) of its own."""
    dd = DataDir(data_dir)
    gx = _Gx("docs")
    zone_ids = {zone: result.reports.filter(pl.col("status") == st).select("report_id", "template")
                for st, zone in schemas.ZONES.items()}
    reports = result.all_reports(dd) if dataset in ("reports", "report_summary") else result.reports
    if dataset == "reports":
        source: Callable[[], Iterator[pl.DataFrame]] = lambda: iter([reports])  # noqa: E731
    elif dataset == "report_summary":
        def source() -> Iterator[pl.DataFrame]:
            for p in parts:  # each part's reports with their final status, figures from its cells
                mine = reports.join(read_part(dd, p, "reports").select("report_id"), on="report_id", how="semi")
                yield summary_frame(mine, read_part(dd, p, "requests"), read_part(dd, p, "review_litigation"),
                                    read_part(dd, p, "proactive"))
    else:
        def source() -> Iterator[pl.DataFrame]:
            yield from (read_part(dd, p, dataset) for p in parts)
            if dataset == "checks":
                yield read_part(dd, expected.rsplit("/", 1)[0], "checks")
    moves: list[tuple[str, str]] = []
    rows: dict[str, int] = {}
    problems: list[str] = []
    chunkers = {zone: _Chunker() for zone in zone_ids}
    labels = dict.fromkeys(zone_ids, 0)
    with contextlib.ExitStack() as files:
        writers: dict[str, pq.ParquetWriter] = {}
        for zone in zone_ids:
            staged = dd.path("_staging", run_id, zone, dataset, schemas.partition_dir(year), PART_FILE)
            dd.makedirs(staged.rsplit("/", 1)[0])
            moves.append((staged, dd.published_file(zone, dataset, year)))
            rows[f"{zone}/{dataset}"] = 0
            stream = files.enter_context(dd.fs.open_output_stream(staged))
            writers[zone] = files.enter_context(pq.ParquetWriter(stream, _arrow_schema(dataset), compression="zstd"))

        def write(zone: str, chunk: pl.DataFrame) -> None:
            problems.extend(schema_gate_chunk(zone, dataset, chunk, zone_ids[zone], year_range, gx,
                                              label=f"_{labels[zone]}"))
            labels[zone] += 1
            writers[zone].write_table(chunk.to_arrow().cast(_arrow_schema(dataset)))
            rows[f"{zone}/{dataset}"] += chunk.height

        for frame in source():  # each part read once, split into the zones
            frame = frame.filter(pl.col(schemas.PARTITION_KEY) == year)
            for zone, ids in zone_ids.items():
                for chunk in chunkers[zone].add(zone_rows(frame, ids["report_id"])):
                    write(zone, chunk)
        for zone, chunker in chunkers.items():
            for chunk in chunker.flush():
                write(zone, chunk)
    return StagedDataset(moves, rows, problems, gx.build_site())
