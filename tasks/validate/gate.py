"""The publishing gate: run the Great Expectations suites of `expectations/` on one year's frames.

* `consistency_gate(checks)` -- the strict suite decides which reports are quarantined (and with
  which relations); the expected suite yields warnings. Returns per-relation pass/fail counts.
* `schema_gate(zones)` -- every dataset's schema suite on what is about to be published; any
  failure is a pipeline bug, reported with the expectation, the column and sample values.

Validation results are rendered as a static Data Docs site when `docs_dir` is given.
Great Expectations is imported here, inside the functions, never at module import.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from expectations.consistency import INDEX_COLUMNS, consistency_expectations
from expectations.schema import check_dtypes, schema_expectations
from tasks.template import codes

# Warnings kept with their detail when a year is merged from chunks (the counts are always complete):
# a renamed organ can fail E1 on every report of a national year.
MAX_EXPECTED_KEPT = 2000


@dataclass(frozen=True, slots=True)
class RelationFailure:
    report_id: str
    check_id: str
    scope: str
    lhs: float | None
    rhs: float | None
    detail: str


@dataclass(slots=True)
class ConsistencyResult:
    strict_failures: list[RelationFailure] = field(default_factory=list)
    expected_failures: list[RelationFailure] = field(default_factory=list)
    per_relation: dict[str, tuple[int, int]] = field(default_factory=dict)  # check_id -> (evaluated, failed)
    seconds: float = 0.0

    def merge(self, other: ConsistencyResult, keep_expected: int = MAX_EXPECTED_KEPT) -> None:
        """Add the result of another chunk of the same year (the gate runs over a year in chunks)."""
        self.strict_failures.extend(other.strict_failures)
        room = max(0, keep_expected - len(self.expected_failures))
        self.expected_failures.extend(other.expected_failures[:room])
        for check_id, (n, failed) in other.per_relation.items():
            before = self.per_relation.get(check_id, (0, 0))
            self.per_relation[check_id] = (before[0] + n, before[1] + failed)
        self.seconds += other.seconds

    def failing_reports(self) -> dict[str, list[RelationFailure]]:
        out: dict[str, list[RelationFailure]] = {}
        for f in self.strict_failures:
            out.setdefault(f.report_id, []).append(f)
        return out


def _share_compiled_templates() -> None:
    """Compile each Data Docs template once per process, not once per page.

    Every GX view (`DefaultJinjaView`) builds its own Jinja environment, so each page and section it
    renders parses and compiles the same templates again: that was a third of staging a small year
    (about 2 s a year on the sample, where the validations themselves take less). A Jinja bytecode
    cache shared by those environments keeps the compiled code; the rendered pages are unchanged.
    """
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView, "_xxgk_shared_templates", False):
        return

    class Compiled(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.codes: dict[tuple[str, str], Any] = {}

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            bucket.code = self.codes.get((bucket.key, bucket.checksum))

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            self.codes[(bucket.key, bucket.checksum)] = bucket.code

    cache, init = Compiled(), DefaultJinjaView.__init__

    def shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = shared_init  # type: ignore[method-assign]
    DefaultJinjaView._xxgk_shared_templates = True  # type: ignore[attr-defined]


class _Gx:
    """One ephemeral GX context with a pandas data source and, optionally, a Data Docs site."""

    def __init__(self, docs_dir: str | None) -> None:
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ("great_expectations", "great_expectations.data_context.types.base"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _share_compiled_templates()
        self.gx = gx
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.ctx.data_sources.add_pandas("xxgk")
        self.docs_dir = docs_dir
        self.site_dir = tempfile.mkdtemp(prefix="xxgk-docs-") if docs_dir else None
        if self.site_dir:
            self.ctx.add_data_docs_site(site_name="xxgk", site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": self.site_dir},
            })

    def run(self, name: str, frame: Any, expectations: list[Any], index: list[str] | None = None) -> Any:
        gx = self.gx
        batch = self.source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
        suite = self.ctx.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        vd = self.ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        if index:
            result_format["unexpected_index_column_names"] = index
        # Data Docs are built once per context (build_site), not after every suite: rebuilding the
        # site is most of the gate's time otherwise.
        checkpoint = self.ctx.checkpoints.add(gx.Checkpoint(name=f"{name}-gate", validation_definitions=[vd],
                                                            actions=[], result_format=result_format))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        # The pandas execution engine caches every batch it loaded (with its DataFrame), and every
        # metric it computed (a boolean Series per row-wise expectation, keyed by that batch, never
        # asked for again): over a year of chunks that grew ~2 MB a validation, ~0.3 GB for a
        # national year's `requests`. The result is all we need of either.
        engine = self.source.get_execution_engine()
        engine.batch_manager.reset_batch_cache()
        engine.batch_manager.batch_data_cache.clear()
        engine._metric_cache.clear()
        return next(iter(result.run_results.values()))

    def build_site(self) -> str | None:
        """Render the Data Docs of every suite run in this context into its site folder; returns the
        folder (None without a site). `copy_site` puts it into the data directory."""
        if not self.site_dir:
            return None
        self.ctx.build_data_docs(site_names=["xxgk"])
        return self.site_dir


def copy_site(site_dir: str | None, write: Any) -> str | None:
    """Copy a rendered site (`_Gx.build_site`) via `write(relative_path, bytes)` and remove it; returns
    the index page's relative path."""
    if not site_dir:
        return None
    root = Path(site_dir)
    for path in root.rglob("*"):
        if path.is_file():
            write(str(path.relative_to(root)), path.read_bytes())
    shutil.rmtree(root, ignore_errors=True)
    return "index.html"


def _failures(result: Any, frame: pl.DataFrame) -> list[RelationFailure]:
    """The failing rows GX names (by their index columns), with their sides and detail from `frame`.

    Only those rows are looked up: a national year's chunk holds ~400,000 checks, of which a few
    hundred fail, and a lookup of every row was a quarter of the gate's time."""
    keys = [tuple(idx[c] for c in INDEX_COLUMNS)
            for r in result.results if not r.success for idx in r.result.get("unexpected_index_list") or []]
    if not keys:
        return []
    wanted = pl.DataFrame(keys, schema={c: frame.schema[c] for c in INDEX_COLUMNS}, orient="row")
    found = frame.join(wanted, on=INDEX_COLUMNS, how="semi", nulls_equal=True)
    lookup = {tuple(r[c] for c in INDEX_COLUMNS): r for r in found.iter_rows(named=True)}
    return [RelationFailure(*key, lookup[key]["lhs"], lookup[key]["rhs"], lookup[key]["detail"]) for key in keys]


def consistency_gate(checks: pl.DataFrame, docs_dir: str | None = None, gx: _Gx | None = None, label: str = ""
                     ) -> tuple[ConsistencyResult, _Gx]:
    """Run the strict and expected consistency suites on the `checks` frame of one year (or of one
    chunk of it: `label` tells the chunks' suites apart in one context and in Data Docs)."""
    start = time.perf_counter()
    gx = gx or _Gx(docs_dir)
    out = ConsistencyResult()
    suites = ((codes.SEVERITY_STRICT, "consistency_strict"), (codes.SEVERITY_EXPECTED, "consistency_expected"))
    for severity, name in suites:
        part = checks.filter(pl.col("severity") == severity)
        if part.height == 0:
            continue
        result = gx.run(f"{name}{label}", part.select([*INDEX_COLUMNS, "lhs", "rhs"]).to_pandas(),
                        consistency_expectations(severity), INDEX_COLUMNS)
        failures = _failures(result, part)
        (out.strict_failures if severity == codes.SEVERITY_STRICT else out.expected_failures).extend(failures)
        failed_by_id: dict[str, int] = {}
        for f in failures:
            failed_by_id[f.check_id] = failed_by_id.get(f.check_id, 0) + 1
        for check_id, n in part.group_by("check_id").len().iter_rows():
            out.per_relation[check_id] = (n, failed_by_id.get(check_id, 0))
    out.seconds = time.perf_counter() - start
    return out, gx


def _describe(result: Any, dataset: str, zone: str, template: str | None = None) -> list[str]:
    problems = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list")
        sample = r.result.get("partial_unexpected_list") or r.result.get("observed_value")
        if r.exception_info and r.exception_info.get("raised_exception"):
            sample = r.exception_info.get("exception_message")
        where = f"{zone}/{dataset}" + (f" ({template} reports)" if template else "")
        problems.append(f"{where}: {cfg.type} failed on column {column!r}; sample {str(sample)[:200]}")
    return problems


def schema_gate(zones: dict[str, dict[str, pl.DataFrame]], year_range: tuple[int, int],
                gx: _Gx | None = None, docs_dir: str | None = None) -> tuple[list[str], _Gx]:
    """Every dataset's schema suite on what is about to be published; returns the failures."""
    gx = gx or _Gx(docs_dir)
    problems: list[str] = []
    for zone, frames in zones.items():
        templates = frames["reports"].select("report_id", "template")
        for dataset, frame in frames.items():
            problems += schema_gate_chunk(zone, dataset, frame, templates, year_range, gx)
    return problems, gx


def schema_gate_chunk(zone: str, dataset: str, frame: pl.DataFrame, templates: pl.DataFrame,
                      year_range: tuple[int, int], gx: _Gx, label: str = "") -> list[str]:
    """The schema suite of one dataset of one zone on `frame` (all of it, or one chunk: `label`).

    `templates` (report_id, template) are the zone's reports: table rows are checked against the
    expectations of their report's template, and a row whose report is not in the zone is a bug.
    """
    dtype_problems = check_dtypes(dataset, frame)
    problems = [f"{zone}/{p}" for p in dtype_problems]
    if dtype_problems or frame.height == 0:
        return problems
    if dataset in ("proactive", "requests", "review_litigation"):
        with_template = frame.join(templates, on="report_id", how="left")
        for template in codes.SUPPORTED_TEMPLATES:
            part = with_template.filter(pl.col("template") == template).drop("template")
            if part.height:
                result = gx.run(f"{zone}_{dataset}_{template}{label}", part.to_pandas(use_pyarrow_extension_array=True),
                                schema_expectations(dataset, zone, year_range, template))
                problems += _describe(result, dataset, zone, template)
        missing = with_template.filter(pl.col("template").is_null()).height
        if missing:
            problems.append(f"{zone}/{dataset}: {missing} row(s) of reports absent from {zone}/reports")
    else:
        result = gx.run(f"{zone}_{dataset}{label}", frame.to_pandas(use_pyarrow_extension_array=True),
                        schema_expectations(dataset, zone, year_range))
        problems += _describe(result, dataset, zone)
    return problems
