"""The `xxgk` command line: parse arguments, call the public API, print, map errors to exit 2.

    xxgk extract SOURCE [SOURCE ...] [--json] [--organ NAME] [--year YYYY]
    xxgk run [--catalogue CSV] [--data-dir DIR] [--year YYYY]
    xxgk backfill --from 2019 --to 2025 [--catalogue CSV] [--data-dir DIR] [--force]
    xxgk serve [--catalogue CSV] [--data-dir DIR]

Commands import their stage lazily, so `xxgk extract` never pays for Prefect or Great Expectations.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tasks.errors import XxgkError


def _summary(report) -> str:  # type: ignore[no-untyped-def]
    m = report.meta
    failed = [f"{c.id}[{c.scope}]" for c in report.failed_checks]
    filled = sum(1 for c in report.cells if c.value is not None)
    status = "ok" if not failed else "FAILS " + ", ".join(failed)
    return (f"{m.source}: {m.organ} {m.year} {m.template} — {filled}/{len(report.cells)} cells filled, "
            f"{len(report.checks)} checks, {status}")


def _read_one(source: str, organ: str | None, year: int | None):  # type: ignore[no-untyped-def]
    """The budgeted read of one source; a page that only wraps its report is read through its
    PDF/Word attachment, as the flows do. Raises XxgkError when a source cannot be loaded."""
    from tasks.extract.budget import Job, read_in_budget
    from tasks.extract.reader import load_source
    from tasks.fetch.attachments import attachment_link

    location = source
    while True:
        data, content_type = load_source(location)
        # read in a worker process under the flows' budget (10 s, 1 GB): a hostile file cannot hang the shell
        (outcome,) = read_in_budget([Job(data, source, content_type, organ, year)])
        link = attachment_link(data, content_type, location) if (
            location == source and outcome.report is None and (outcome.error or "").startswith("NoTablesFound")
            and source.startswith(("http://", "https://"))) else None
        if link is None:
            return outcome
        print(f"xxgk: {source}: no tables on the page; reading its attachment {link}", file=sys.stderr)
        location = link


def cmd_extract(args: argparse.Namespace) -> int:
    """Read each SOURCE (path or http(s) URL) and print its tables (JSON) or a one-line summary."""
    status = 0
    for source in args.sources:
        try:
            outcome = _read_one(source, args.organ, args.year)
        except XxgkError as exc:
            print(f"xxgk: {exc}", file=sys.stderr)
            status = 2
            continue
        report = outcome.report
        if report is None:
            print(f"xxgk: {source}: {outcome.error}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            indent = 2 if len(args.sources) == 1 else None
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=indent))
        else:
            print(_summary(report))
    return status


def configure_prefect() -> None:
    """Defaults that make Prefect quiet and patient on an offline machine (overridable by env)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _print_summaries(summaries: list[dict], data_dir: str) -> None:
    header = ["year", "discovered", "fetched", "unchanged", "failed", "extracted", "quarantined", "published"]
    print("  ".join(f"{h:>11}" for h in header))
    for s in summaries:
        if s.get("skipped"):
            print(f"{s['year']:>11}  (already ingested; skipped)")
            continue
        print("  ".join(f"{v:>11}" for v in [s["year"], *(s["counts"][h] for h in header[1:])]))
    failures = [(s["year"], f) for s in summaries for f in s.get("failures", [])]
    for year, f in failures:
        print(f"  {year} {f['stage']:>8}  {f['source']}: {f['reason'][:160]}")
    print(f"datasets under {data_dir}/curated and {data_dir}/quarantine (Hive partitions year=YYYY)")


def _writable(data_dir: str) -> str | None:
    """Why the data directory cannot be written (a file, read-only, a full disk), or None; in seconds."""
    if "://" in data_dir and not data_dir.startswith("file://"):
        return None  # an object store says so on the first write
    path = Path(data_dir.removeprefix("file://"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".xxgk-write-probe-{os.getpid()}"
        probe.write_bytes(b"x" * 65_536)
        probe.unlink()
    except OSError as exc:
        return f"the data directory {path} is not writable: {exc.strerror or exc}"
    return None


class _NoRunErrors(logging.Filter):
    """Keeps Prefect's own report of a failed flow or task run (a traceback of ~50 lines) off the
    console: the command prints the reason in one line itself, and exits 2. (`-v` keeps them.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.ERROR and record.name.startswith(("prefect.flow_runs",
                                                                               "prefect.task_runs")))


def _quiet_run_errors() -> None:
    from prefect.logging.configuration import setup_logging

    setup_logging()  # Prefect's console handler sits on the root logger once logging is set up
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NoRunErrors())


def _run_flows(call, data_dir: str, verbose: bool = False,  # type: ignore[no-untyped-def]
               check: Callable[[], None] | None = None) -> int:
    """Run flows (imported lazily), print their summary; bad input or a refusal is one line and exit 2.

    `check` validates the parameters before any work (years, catalogue), so that a typo costs
    neither a Prefect start-up nor a traceback.
    """
    configure_prefect()
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    try:
        if check is not None:
            check()
    except XxgkError as exc:
        print(f"xxgk: {exc}", file=sys.stderr)
        return 2
    problem = _writable(data_dir)
    if problem:
        print(f"xxgk: {problem}", file=sys.stderr)
        return 2
    if not verbose:
        _quiet_run_errors()
    try:
        summaries, data_dir = call()
    except XxgkError as exc:
        print(f"xxgk: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the data directory failing mid-run (disk full, unmounted)
        print(f"xxgk: {exc.filename or data_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    _print_summaries(summaries, data_dir)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Ingest the catalogue's reporting years (or --year) on Prefect's embedded API and print a summary."""

    def call() -> tuple[list[dict], str]:
        from flows.ingest import backfill, ingest
        from tasks.catalogue import load_catalogue

        years = load_catalogue(args.catalogue).years()
        if args.year or not years:
            return [ingest(year=args.year, catalogue=args.catalogue, data_dir=args.data_dir,
                           batch_size=args.batch_size, dask_address=args.dask_address,
                           max_quarantine_rate=args.max_quarantine_rate,
                           min_reports_for_rate=args.min_reports_for_rate)], args.data_dir
        return backfill(start_year=min(years), end_year=max(years), catalogue=args.catalogue,
                        data_dir=args.data_dir, force=True, batch_size=args.batch_size,
                        dask_address=args.dask_address, max_quarantine_rate=args.max_quarantine_rate,
                        min_reports_for_rate=args.min_reports_for_rate), args.data_dir

    def check() -> None:
        from tasks.catalogue import load_catalogue
        from tasks.runs import check_years

        years = [args.year] if args.year else load_catalogue(args.catalogue).years()
        if years:
            check_years(min(years), max(years))

    return _run_flows(call, args.data_dir, args.verbose, check)


def cmd_backfill(args: argparse.Namespace) -> int:
    """Ingest the years --from..--to one after another; years already ingested are skipped unless --force."""

    def call() -> tuple[list[dict], str]:
        from flows.ingest import backfill

        return backfill(start_year=args.start, end_year=args.end, catalogue=args.catalogue,
                        data_dir=args.data_dir, force=args.force, batch_size=args.batch_size,
                        dask_address=args.dask_address, parallel_years=args.parallel_years,
                        max_quarantine_rate=args.max_quarantine_rate,
                        min_reports_for_rate=args.min_reports_for_rate), args.data_dir

    def check() -> None:
        from tasks.catalogue import load_catalogue
        from tasks.runs import check_years

        check_years(args.start, args.end)
        load_catalogue(args.catalogue)

    return _run_flows(call, args.data_dir, args.verbose, check)


def cmd_serve(args: argparse.Namespace) -> int:
    """Register the scheduled and backfill deployments on PREFECT_API_URL and serve their runs."""
    configure_prefect()
    from flows.deployments import serve_deployments

    serve_deployments(args.catalogue, args.data_dir)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="read annual reports into the canonical tables",
                       description=cmd_extract.__doc__)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="a local path or an http(s) URL")
    p.add_argument("--json", action="store_true", help="print the report JSON (one object per line for several)")
    p.add_argument("--organ", help="the organ, when the catalogue knows it better than the text")
    p.add_argument("--year", type=int, help="the reporting year, when the catalogue knows it")
    p.set_defaults(func=cmd_extract)

    from tasks.settings import (
        BATCH_SIZE,
        DEFAULT_CATALOGUE,
        DEFAULT_DATA_DIR,
        MAX_QUARANTINE_RATE,
        MIN_REPORTS_FOR_RATE,
    )

    def common(p: argparse.ArgumentParser, engine: bool = True) -> None:
        p.add_argument("--catalogue", default=DEFAULT_CATALOGUE, help="source catalogue CSV")
        p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="output directory or object-store URL")
        if engine:
            p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="documents per batch task")
            p.add_argument("-v", "--verbose", action="store_true", help="Prefect's INFO logs and run tracebacks")
            p.add_argument("--max-quarantine-rate", type=float, default=MAX_QUARANTINE_RATE,
                           help="refuse to publish a year with a larger share of quarantined reports")
            p.add_argument("--min-reports-for-rate", type=int, default=MIN_REPORTS_FOR_RATE,
                           help="... judged only on years with at least this many documents")
            p.add_argument("--dask-address", help="run the batches on this Dask scheduler (tcp://host:8786); "
                                                  "the data directory must be shared with its workers")

    p = sub.add_parser("run", help="ingest the catalogue (default: the bundled samples)", description=cmd_run.__doc__)
    common(p)
    p.add_argument("--year", type=int, help="one reporting year only")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("backfill", help="ingest a range of reporting years", description=cmd_backfill.__doc__)
    common(p)
    p.add_argument("--from", dest="start", type=int, required=True)
    p.add_argument("--to", dest="end", type=int, required=True)
    p.add_argument("--force", action="store_true", help="redo years already ingested")
    p.add_argument("--parallel-years", type=int, default=1, help="ingest this many years at once")
    p.set_defaults(func=cmd_backfill)
    p = sub.add_parser("serve", help="serve the deployments on a Prefect server", description=cmd_serve.__doc__)
    common(p, engine=False)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
