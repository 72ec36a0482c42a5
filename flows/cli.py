"""The `xxgk` command line (Typer + Rich): parse options, call the flows or readers, print, exit.

    xxgk extract SOURCE... [--json] [--organ NAME] [--year YYYY]
    xxgk run [--year YYYY] [--catalogue CSV] [--data-dir DIR] [--strict] [--fetch-option KEY=VALUE]...
    xxgk backfill --from 2019 --to 2025 [--force] [--parallel-years N]
    xxgk audit [--year YYYY]... [--data-dir DIR] [--all]
    xxgk serve [--catalogue CSV] [--data-dir DIR]
    xxgk deployments [--write | --check]

Exit codes: 0 done; 1 published, but with quarantined reports, under `--strict`; 2 bad input,
a refused publish or an unreachable server (one line on stderr saying which and why).

Commands import their stage lazily, so `xxgk extract` never pays for Prefect or Great Expectations.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tasks.errors import SettingsError, XxgkError
from tasks.settings import (
    BATCH_SIZE,
    DEFAULT_CATALOGUE,
    DEFAULT_DATA_DIR,
    DEFAULT_OVERRIDES,
    MAX_QUARANTINE_RATE,
    MIN_REPORTS_FOR_RATE,
)

EXIT_OK, EXIT_QUARANTINED, EXIT_BAD = 0, 1, 2

app = typer.Typer(name="xxgk", help="Annual government information disclosure reports → validated datasets.",
                  no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a one-line reason stays one line


class Failed(Exception):
    """A command's one-line reason and exit code (2 unless said otherwise)."""

    def __init__(self, message: str, code: int = EXIT_BAD) -> None:
        super().__init__(message)
        self.code = code


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"xxgk {version('xxgk')}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Turn 政府信息公开工作年度报告 into validated, year-partitioned Parquet datasets.

    [b]Examples[/b]

      xxgk run                                   # the bundled sample, embedded Prefect API, ./output
      xxgk extract report.html --json           # one report's tables as JSON
      xxgk backfill --from 2019 --to 2025 --catalogue my.csv --data-dir /srv/xxgk
    """


# ---------------------------------------------------------------- extract

def _summary(report) -> str:  # type: ignore[no-untyped-def]
    m = report.meta
    failed = [f"{c.id}[{c.scope}]" for c in report.failed_checks]
    filled = sum(1 for c in report.cells if c.value is not None)
    status = "ok" if not failed else "FAILS " + ", ".join(failed)
    return (f"{m.source}: {m.organ} {m.year} {m.template} — {filled}/{len(report.cells)} cells filled, "
            f"{len(report.checks)} checks, {status}")


def _read_one(source: str, organ: str | None, year: int | None):  # type: ignore[no-untyped-def]
    """The budgeted read of one source; a page that only wraps its report is read through its
    PDF/Word attachment, or its images by OCR, as the flows do. Raises XxgkError when a source
    cannot be loaded."""
    from tasks.errors import XxgkError
    from tasks.extract.budget import Job, read_in_budget
    from tasks.extract.reader import load_source
    from tasks.fetch.attachments import attachment_link, embed_images, image_links

    location = source
    while True:
        data, content_type = load_source(location)
        # read in a worker process under the flows' budget (10 s, 1 GB): a hostile file cannot hang the shell
        (outcome,) = read_in_budget([Job(data, source, content_type, organ, year)])
        wrapper = location == source and outcome.report is None and (outcome.error or "").startswith(
            "NoTablesFound") and source.startswith(("http://", "https://"))
        link = attachment_link(data, content_type, location) if wrapper else None
        if link is None:
            pictures = image_links(data, content_type, location) if wrapper else []
            if not pictures:
                return outcome
            err.print(f"xxgk: {source}: no tables on the page; reading its {len(pictures)} image(s) by OCR",
                      markup=False)
            images: dict[str, bytes] = {}
            for url in pictures:
                try:
                    images[url] = load_source(url)[0]
                except XxgkError as exc:
                    err.print(f"xxgk: {url}: {exc.reason}; left out", markup=False)
            page = embed_images(data, content_type, location, images)
            (outcome,) = read_in_budget([Job(page, source, "text/html; charset=utf-8", organ, year)])
            return outcome
        err.print(f"xxgk: {source}: no tables on the page; reading its attachment {link}", markup=False)
        location = link


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(metavar="SOURCE...", help="Local paths or http(s) URLs.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report JSON (one line each for several).")
                       ] = False,
    organ: Annotated[str | None, typer.Option(help="The organ, when the catalogue knows it better than the text.")
                     ] = None,
    year: Annotated[int | None, typer.Option(help="The reporting year, when the catalogue knows it.")] = None,
) -> None:
    """Read reports (HTML, PDF, Word, text; paths or URLs) and print their tables or a summary line.

    URLs are fetched by the flows' polite fetcher (retries, size cap, redirects to http/https only);
    a page that only links its report as a PDF/Word attachment is read through the attachment.
    Exit 2 if any source could not be read (each says why on stderr).
    """
    status = EXIT_OK
    for source in sources:
        try:
            outcome = _read_one(source, organ, year)
        except XxgkError as exc:
            err.print(f"xxgk: {exc}", markup=False)
            status = EXIT_BAD
            continue
        report = outcome.report
        if report is None:
            err.print(f"xxgk: {source}: {outcome.error}", markup=False)
            status = EXIT_BAD
            continue
        if as_json:
            indent = 2 if len(sources) == 1 else None
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=indent))
        else:
            print(_summary(report))
    raise typer.Exit(status)


# ---------------------------------------------------------------- run / backfill

def configure_prefect(quiet: bool = True) -> None:
    """Defaults that make Prefect patient on an offline machine and, for `run`, quiet (env overrides).

    `serve` keeps Prefect's INFO level: its runs' progress lines are what the server's UI shows.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


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


def _fetch_options(pairs: list[str]) -> dict[str, object]:
    """`--fetch-option per_host_interval_s=2` pairs as a dict, validated now (the option named if bad)."""
    from tasks.settings import fetch_settings

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"--fetch-option {pair!r} is not KEY=VALUE")
        options[key.strip()] = value.strip()
    fetch_settings(options)
    return options


class _Progress:
    """Live per-year counts while flows run: a Rich table on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        from tasks.progress import STAGES

        self.stages = STAGES
        self.years: dict[int, dict[str, int]] = {}
        self.live: Any = None
        self.last: dict[int, tuple[int, ...]] = {}

    def __call__(self, year: int, counts: dict[str, int]) -> None:
        row = self.years.setdefault(year, dict.fromkeys(self.stages, 0))
        row.update(counts)
        if self.live is not None:
            self.live.update(self.table())
            return
        key = tuple(row.values())
        if self.last.get(year) != key:
            self.last[year] = key
            err.print(f"progress {year}: " + ", ".join(f"{s} {row[s]}" for s in self.stages), markup=False)

    def table(self) -> Table:
        table = Table("year", *self.stages, title="progress", title_justify="left")
        for year in sorted(self.years):
            table.add_row(str(year), *(str(self.years[year][s]) for s in self.stages))
        return table

    def __enter__(self) -> _Progress:
        from tasks import progress

        if err.is_terminal:
            from rich.live import Live

            self.live = Live(self.table(), console=err, refresh_per_second=4, transient=True)
            self.live.__enter__()
        self._listening = progress.listening(self)
        self._listening.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listening.__exit__(*exc)
        if self.live is not None:
            self.live.__exit__(*exc)


def failures_table(failures: list[tuple[int, dict[str, str]]]) -> Table:
    """The documents that were not curated, their reasons wrapped at word boundaries, never cut."""
    table = Table("year", "stage", "source", "reason", title="not curated", title_justify="left", expand=True)
    table.columns[3].overflow = "fold"
    table.columns[3].ratio = 3
    for year, f in failures:
        table.add_row(str(year), f["stage"], f["source"], f["reason"])
    return table


def _print_summaries(summaries: list[dict[str, Any]], data_dir: str) -> None:
    from tasks.progress import STAGES

    terminal = Console().is_terminal
    out = Console(highlight=False, width=None if terminal else 160)  # a log file gets whole headers
    table = Table("year", *STAGES, "unchanged", title="xxgk: documents per stage", title_justify="left")
    for column in table.columns:
        column.no_wrap, column.min_width = True, len(str(column.header))
    for s in summaries:
        if s.get("skipped"):
            table.add_row(str(s["year"]), "already ingested; skipped (--force redoes it)")
            continue
        c = s["counts"]
        table.add_row(str(s["year"]), *(str(c.get(k, 0)) for k in STAGES), str(c.get("unchanged", 0)))
    out.print(table)
    failures = [(s["year"], f) for s in summaries for f in s.get("failures", [])]
    if failures and terminal:
        out.print(failures_table(failures))
    for year, f in failures if not terminal else []:  # a log gets each failure whole on one line
        out.print(f"{year} {f['stage']} {f['source']}: {f['reason']}", markup=False, soft_wrap=True)
    out.print(f"datasets under {data_dir}/curated and {data_dir}/quarantine (<dataset>/YYYY/part-0.parquet)",
              markup=False, soft_wrap=True)


def _run_flows(call: Callable[[], list[dict[str, Any]]], data_dir: str, verbose: bool, strict: bool,
               check: Callable[[], None]) -> None:
    """Run flows (imported lazily) and print their summary; bad input or a refusal is one line, exit 2.

    `check` validates the parameters before any work (years, catalogue, fetch options), so a typo
    costs neither a Prefect start-up nor a traceback.
    """
    configure_prefect()
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    try:
        check()
    except XxgkError as exc:
        raise Failed(str(exc)) from None
    problem = _writable(data_dir)
    if problem:
        raise Failed(problem)
    if not verbose:
        _quiet_run_errors()
    try:
        with _Progress():
            summaries = call()
    except XxgkError as exc:
        raise Failed(str(exc)) from None
    except OSError as exc:  # the data directory failing mid-run (disk full, unmounted)
        raise Failed(f"{exc.filename or data_dir}: {exc.strerror or exc}") from None
    _print_summaries(summaries, data_dir)
    quarantined = sum(s.get("counts", {}).get("quarantined", 0) for s in summaries)
    if strict and quarantined:
        raise Failed(f"published, but {quarantined} report(s) quarantined (--strict)", EXIT_QUARANTINED)


Catalogue = Annotated[str, typer.Option("--catalogue", help="Source catalogue CSV.")]
DataDirOpt = Annotated[str, typer.Option("--data-dir", help="Output directory or object-store URL (s3://…).")]
Force = Annotated[bool, typer.Option("--force", help="Redo years already ingested; publish even if nothing changed.")]
Overrides = Annotated[str, typer.Option(help="Reviewed releases of failing reports (CSV).")]
BatchSize = Annotated[int, typer.Option(min=1, help="Documents per batch task.")]
FetchOption = Annotated[list[str], typer.Option("--fetch-option", metavar="KEY=VALUE",
                                                help="A fetcher setting, e.g. per_host_interval_s=2 (repeatable).")]
MaxRate = Annotated[float, typer.Option(min=0.0, max=1.0,
                                        help="Refuse to publish a year with a larger share quarantined.")]
MinReports = Annotated[int, typer.Option(min=0, help="... judged only on years with at least this many documents.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 1 when reports were quarantined.")]
Dask = Annotated[str | None, typer.Option(help="Run the batches on this Dask scheduler (tcp://host:8786).")]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="Prefect's INFO logs and run tracebacks.")]


@app.command()
def run(
    year: Annotated[int | None, typer.Option(help="One reporting year (default: every year of the catalogue).")
                    ] = None,
    catalogue: Catalogue = DEFAULT_CATALOGUE, data_dir: DataDirOpt = DEFAULT_DATA_DIR, force: Force = False,
    overrides: Overrides = DEFAULT_OVERRIDES, batch_size: BatchSize = BATCH_SIZE,
    fetch_option: FetchOption = [],  # noqa: B006 (Typer reads the default; it is never mutated)
    max_quarantine_rate: MaxRate = MAX_QUARANTINE_RATE, min_reports_for_rate: MinReports = MIN_REPORTS_FOR_RATE,
    strict: Strict = False, dask_address: Dask = None, verbose: Verbose = False,
) -> None:
    """Ingest the catalogue's reporting years (default: the bundled samples) on Prefect's embedded API.

    Years already published from unchanged inputs are not published again (unless --force).
    """
    options: dict[str, object] = {}

    def check() -> None:
        from tasks.catalogue import load_catalogue
        from tasks.runs import check_years
        from tasks.validate.overrides import load_overrides

        years = [year] if year else load_catalogue(catalogue).years()
        if years:
            check_years(min(years), max(years))
        load_overrides(overrides)
        options.update(_fetch_options(fetch_option))

    def call() -> list[dict[str, Any]]:
        from flows.ingest import backfill, ingest
        from tasks.catalogue import load_catalogue

        common = {"catalogue": catalogue, "data_dir": data_dir, "batch_size": batch_size, "republish": force,
                  "overrides": overrides, "fetch_options": options or None, "dask_address": dask_address,
                  "max_quarantine_rate": max_quarantine_rate, "min_reports_for_rate": min_reports_for_rate}
        years = load_catalogue(catalogue).years()
        if year or not years:
            return [ingest(year=year, **common)]
        # every year of the catalogue; an unchanged year is recognised by its inputs, not skipped blind
        return backfill(start_year=min(years), end_year=max(years), force=True, **common)

    _run_flows(call, data_dir, verbose, strict, check)


@app.command()
def backfill(
    start: Annotated[int, typer.Option("--from", help="First reporting year.")],
    end: Annotated[int, typer.Option("--to", help="Last reporting year.")],
    catalogue: Catalogue = DEFAULT_CATALOGUE, data_dir: DataDirOpt = DEFAULT_DATA_DIR, force: Force = False,
    parallel_years: Annotated[int, typer.Option(min=1, help="Ingest this many years at once.")] = 1,
    overrides: Overrides = DEFAULT_OVERRIDES, batch_size: BatchSize = BATCH_SIZE,
    fetch_option: FetchOption = [],  # noqa: B006
    max_quarantine_rate: MaxRate = MAX_QUARANTINE_RATE, min_reports_for_rate: MinReports = MIN_REPORTS_FOR_RATE,
    strict: Strict = False, dask_address: Dask = None, verbose: Verbose = False,
) -> None:
    """Ingest the years --from..--to; years already ingested from this catalogue are skipped unless --force."""
    options: dict[str, object] = {}

    def check() -> None:
        from tasks.catalogue import load_catalogue
        from tasks.runs import check_years
        from tasks.validate.overrides import load_overrides

        check_years(start, end)
        load_catalogue(catalogue)
        load_overrides(overrides)
        options.update(_fetch_options(fetch_option))

    def call() -> list[dict[str, Any]]:
        from flows.ingest import backfill as backfill_flow

        return backfill_flow(start_year=start, end_year=end, catalogue=catalogue, data_dir=data_dir, force=force,
                             republish=force, batch_size=batch_size, fetch_options=options or None,
                             dask_address=dask_address, parallel_years=parallel_years, overrides=overrides,
                             max_quarantine_rate=max_quarantine_rate, min_reports_for_rate=min_reports_for_rate)

    _run_flows(call, data_dir, verbose, strict, check)


@app.command()
def audit(
    year: Annotated[list[int], typer.Option("--year", help="A reporting year (repeatable; default: every published)")
                    ] = [],  # noqa: B006
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    every_page: Annotated[bool, typer.Option("--all", help="A page for every report, however many.")] = False,
) -> None:
    """Write the audit site of published years: <data-dir>/audit/YYYY/index.html, one page per report.

    Each page lays the three tables out as the template prints them, highlights the cells of every
    failing relation and says it in words, and sets last year's report beside this one; it opens
    from disk, offline. (Every ingest writes its year's site too.)
    """
    from tasks.audit import audit_year
    from tasks.load.storage import DataDir

    dd = DataDir(data_dir)
    years = year or sorted({int(p.rstrip("/").rsplit("/", 1)[-1]) for zone in ("curated", "quarantine")
                            for p in dd.listdir(dd.path(zone, "reports")) if p.rstrip("/")[-4:].isdigit()})
    if not years:
        raise Failed(f"nothing published under {data_dir}: run `xxgk run` first")
    for y in years:
        index = audit_year(dd, y, all_pages=True if every_page else None)
        if index is None:
            raise Failed(f"{y}: no published reports under {data_dir}")
        print(index)


# ---------------------------------------------------------------- serve / deployments

def _api_url() -> str:
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise Failed("xxgk serve needs a Prefect server: set PREFECT_API_URL "
                     "(e.g. http://127.0.0.1:4200/api, after `prefect server start`)")
    return str(url).rstrip("/")


def _reachable(url: str) -> None:
    import httpx

    try:
        httpx.get(f"{url}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise Failed(f"the Prefect API at {url} is not reachable ({type(exc).__name__}: {exc})") from None


@app.command()
def serve(catalogue: Catalogue = DEFAULT_CATALOGUE, data_dir: DataDirOpt = DEFAULT_DATA_DIR) -> None:
    """Register `ingest/latest-year-serve` (scheduled) and `backfill/backfill-serve` on PREFECT_API_URL
    and run their flow runs in this process, until SIGTERM or Ctrl-C.

    The worker route (`prefect deploy --all`, prefect.yaml) registers `latest-year` and `backfill`
    from the same definition; the two routes never replace each other's deployments.
    """
    configure_prefect(quiet=False)
    _reachable(_api_url())

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # Prefect's serve shuts down on it, as on Ctrl-C

    signal.signal(signal.SIGTERM, stop)
    from flows.deployments import serve_deployments

    serve_deployments(catalogue, data_dir)


@app.command()
def deployments(
    write: Annotated[bool, typer.Option("--write", help="Write prefect.yaml from flows/deployments.py.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 2 if prefect.yaml differs from the definition.")] = False,
) -> None:
    """Print (or --write, or --check) prefect.yaml, rendered from the one deployment definition."""
    from flows.deployments import PREFECT_YAML, render_prefect_yaml

    text = render_prefect_yaml()
    if write:
        PREFECT_YAML.write_text(text, encoding="utf-8")
        err.print(f"xxgk: wrote {PREFECT_YAML}", markup=False)
    elif check:
        current = PREFECT_YAML.read_text(encoding="utf-8") if PREFECT_YAML.exists() else ""
        if current != text:
            raise Failed(f"{PREFECT_YAML} differs from flows/deployments.py: run `xxgk deployments --write`")
    else:
        print(text, end="")


# ---------------------------------------------------------------- entry point

def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the `xxgk` script exits with it)."""
    try:
        code = app(args=list(argv) if argv is not None else None, prog_name="xxgk", standalone_mode=False)
    except Failed as exc:
        err.print(f"xxgk: {exc}", markup=False)
        return exc.code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # --show-completion and --install-completion exit themselves
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except (typer.Abort, KeyboardInterrupt):
        err.print("xxgk: interrupted", markup=False)
        return 130
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return EXIT_BAD
        raise
    return code if isinstance(code, int) else EXIT_OK  # click returns a command's exit code unraised


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
