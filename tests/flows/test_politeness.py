"""Per-host politeness holds for the whole run, not per batch.

Three real servers on three loopback addresses (127.0.0.1/.2/.3) record each request's arrival and
departure. A catalogue mixes direct report URLs on every host with a paginated listing page, and
batches are small so that several are in flight at once. Over the whole run — batches, discovery
and all — a host never has more than `per_host_connections` requests open, and two requests to
one host never start closer than `per_host_interval_s`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures import render

pytestmark = pytest.mark.usefixtures("prefect_backend")
INTERVAL = 0.5
CONNECTIONS = 2
HOLD_S = 0.25  # each answer takes this long, so that requests overlap when the pacer lets them


def _page(organ: str) -> bytes:
    spec = render.hangzhou_2021()
    spec.organ, spec.year = organ, 2021
    spec.title = f"{organ}2021年政府信息公开工作年度报告"
    return render.render_hz2021(spec)


@contextmanager
def _recording_server(address: str, pages: dict[str, bytes], log: list[tuple[str, float, float]]
                      ) -> Iterator[str]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            start = time.monotonic()
            body = pages.get(self.path)
            time.sleep(HOLD_S)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")
            with lock:
                log.append((address, start, time.monotonic()))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{address}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _max_in_flight(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


@contextmanager
def _three_hosts(tmp_path: Path, log: list[tuple[str, float, float]]) -> Iterator[Path]:
    """Six reports on each of three hosts and a three-page listing on the first: 24 documents."""
    rows = ["organ,region,level,year,report_url,listing_url"]
    with ExitStack() as stack:
        pages: dict[str, dict[str, bytes]] = {h: {} for h in HOSTS}
        bases = {h: stack.enter_context(_recording_server(h, pages[h], log)) for h in HOSTS}
        for h in HOSTS:
            for i in range(6):
                organ = f"{h.rsplit('.', 1)[1]}号主机第{i}局"
                pages[h][f"/r{i}.html"] = _page(organ)
                rows.append(f"{organ},,county,2021,{bases[h]}/r{i}.html,")
        # a listing of three pages on the first host, two more reports on each
        first = HOSTS[0]
        for k in range(3):
            links = "".join(f'<li><a href="/l{k}-{j}.html">列表机关{k}{j}2021年政府信息公开工作年度报告</a></li>'
                            for j in range(2))
            nxt = f'<a href="/list{k + 1}.html">下一页</a>' if k < 2 else ""
            pages[first][f"/list{k}.html"] = f"<html><meta charset='utf-8'><body><ul>{links}</ul>{nxt}</body></html>" \
                .encode()
            for j in range(2):
                pages[first][f"/l{k}-{j}.html"] = _page(f"列表机关{k}{j}")
        rows.append(f"列表机关,,county,,,{bases[first]}/list0.html")
        catalogue = tmp_path / "catalogue.csv"
        catalogue.write_text("\n".join(rows) + "\n", encoding="utf-8")
        yield catalogue


def _assert_polite(log: list[tuple[str, float, float]], runs: int = 1) -> None:
    assert len(log) == (18 + 6 + 3) * runs
    for h in HOSTS:
        spans = sorted((s, e) for a, s, e in log if a == h)
        starts = [s for s, _ in spans]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        print(f"{h}: {len(spans)} requests, max in flight {_max_in_flight(spans)}, min gap {min(gaps):.3f} s")
        assert _max_in_flight(spans) <= CONNECTIONS
        # The server sees arrivals, the client paces starts: with both cores busy reading, a
        # request can arrive up to ~0.15 s after it started. (Before the per-process gate: 0.016 s.)
        assert min(gaps) >= INTERVAL - 0.2


HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
OPTIONS = {"per_host_interval_s": INTERVAL, "per_host_connections": CONNECTIONS}


def test_per_host_limits_hold_over_the_whole_run(tmp_path: Path) -> None:
    from flows.ingest import ingest

    log: list[tuple[str, float, float]] = []
    with _three_hosts(tmp_path, log) as catalogue:
        summary = ingest(year=2021, catalogue=str(catalogue), data_dir=str(tmp_path / "out"), batch_size=2,
                         fetch_options=OPTIONS)
    assert summary["counts"]["discovered"] == 18 + 6 and summary["counts"]["published"] == 24
    _assert_polite(log)


def test_per_host_limits_hold_across_dask_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes, each with its own gate: a host's batches still never overlap, and the
    next batch of a host (on the other worker, perhaps) keeps the gap after the last request."""
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    log: list[tuple[str, float, float]] = []
    with _three_hosts(tmp_path, log) as catalogue, \
            LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        summary = ingest(year=2021, catalogue=str(catalogue), data_dir=str(tmp_path / "out"), batch_size=2,
                         fetch_options=OPTIONS, dask_address=cluster.scheduler_address)
    assert summary["counts"]["discovered"] == 18 + 6 and summary["counts"]["published"] == 24
    _assert_polite(log)


def test_two_runs_in_two_processes_take_turns(tmp_path: Path) -> None:
    """Two `xxgk run` processes on one server, each with its own gate: the `xxgk-sites` limit (as
    `xxgk serve` and the worker route create it) makes the second wait until the first is done."""
    import os
    import subprocess
    import sys

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from flows.deployments import ensure_sites_limit
    from tasks.settings import SITES_LIMIT
    from tests.conftest import ROOT

    ensure_sites_limit()
    log: list[tuple[str, float, float]] = []
    try:
        with _three_hosts(tmp_path, log) as catalogue:
            env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
            runs = [subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--year", "2021", "--catalogue",
                                      str(catalogue), "--data-dir", str(tmp_path / f"out{k}"),
                                      "--fetch-option", f"per_host_interval_s={INTERVAL}"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for k in range(2)]
            for run in runs:
                _, err = run.communicate(timeout=300)
                assert run.returncode == 0, err
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(SITES_LIMIT)  # the other tests run without it
    _assert_polite(log, runs=2)
