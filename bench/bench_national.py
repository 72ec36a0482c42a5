"""Wall time, reports/s, peak memory and time per stage of the `ingest` flow on a generated year.

    python bench/bench_national.py --reports 1000 20000            # all cores (the default run)
    python bench/bench_national.py --reports 20000 --processes 1   # one reader process
    python bench/bench_national.py --reports 20000 --dask 2        # a 2-worker distributed.LocalCluster
    python bench/bench_national.py --reports 140000 --no-rerun     # a national year (~12 min here)

What it measures, so that it cannot flatter:

* each size is generated afresh (bench/generate_year.py: 30–60 KB pages, half GBK 2019-format,
  half UTF-8 2021-format, padding prose in the body, ~2 % with a cross-footing error);
* each run is a child process with a fresh data directory (so the extraction cache is empty) and
  a fresh PREFECT_HOME (its own ephemeral API and database; the server's start-up is timed apart,
  by a trivial flow run first);
* peak RSS is sampled every 0.2 s over the whole process tree (flow process, reader processes,
  Dask workers, whichever thread started them; the Prefect API server is reported apart) and the
  maximum of the sum is printed, also per stage (tree and the flow process alone), so a stage
  whose memory grows shows itself;
* CPU seconds are summed per role (the flow process, its reader processes or Dask workers, the
  API server), so it shows which of them holds the two cores;
* the second run of each size is a rerun over the same data directory: every document unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.isolated import resident_bytes  # noqa: E402
from tasks.settings import BATCH_SIZE  # noqa: E402


def _children(pid: int) -> list[int]:
    """Every child of the process, whichever of its threads started it (a child is listed under the
    thread that started it while that thread lives: reader and staging processes are started by
    worker threads)."""
    out: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            continue
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (its own, not its children's)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _role(root: int, pid: int) -> str:
    if pid == root:
        return "flow"
    cmdline = _cmdline(pid)
    return "api server" if "uvicorn" in cmdline or "prefect.server" in cmdline else "workers"


def _tree_rss(root: int, cpu: dict[int, tuple[str, float]] | None = None) -> tuple[int, int]:
    """(RSS of the pipeline's processes, RSS of the Prefect API server processes) under `root`;
    each process's CPU seconds so far go into `cpu` (pid → (role, seconds))."""
    pipeline = server = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(_children(pid))
        rss = resident_bytes(pid)
        role = _role(root, pid)
        if cpu is not None:
            cpu[pid] = (role, max(cpu.get(pid, (role, 0.0))[1], _cpu_seconds(pid)))
        if role == "api server":
            server += rss
        else:
            pipeline += rss
    return pipeline, server


def _child(catalogue: str, data_dir: str, year: int, dask: int, batch_size: int) -> None:
    """Runs inside the measured process: one warm-up flow (server start-up), then the ingest."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect import flow

    @flow(name="warm-up")
    def warm_up() -> int:
        return 1

    start = time.perf_counter()
    warm_up()
    started = time.perf_counter() - start
    from flows.ingest import ingest

    options = {}
    cluster = None
    if dask:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=dask, threads_per_worker=1, dashboard_address=None, processes=True)
        options["dask_address"] = cluster.scheduler_address
    start = time.perf_counter()
    summary = ingest(year=year, catalogue=catalogue, data_dir=data_dir, min_reports_for_rate=10**9,
                     batch_size=batch_size, **options)
    wall = time.perf_counter() - start
    ended_at = time.time()
    if cluster is not None:
        cluster.close()
    print(json.dumps({"server_start_s": started, "wall_s": wall, "counts": summary["counts"],
                      "seconds": summary.get("seconds", {}), "ended_at": ended_at}))


def measure(catalogue: Path, data_dir: Path, year: int, home: Path, processes: int, dask: int,
            batch_size: int = BATCH_SIZE) -> dict:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    if processes:
        env["XXGK_READ_PROCESSES"] = str(processes)
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(catalogue), str(data_dir), str(year),
                             str(dask), str(batch_size)], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    peak = [0, 0]
    samples: list[tuple[float, int, int]] = []  # (time, whole tree, the flow process alone)
    cpu: dict[int, tuple[str, float]] = {}  # pid → (role, CPU seconds): where the two cores went

    def sample() -> None:
        while proc.poll() is None:
            pipeline, server = _tree_rss(proc.pid, cpu)
            peak[0], peak[1] = max(peak[0], pipeline), max(peak[1], server)
            samples.append((time.time(), pipeline, resident_bytes(proc.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"the measured run failed (exit {proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_gb"], result["server_rss_gb"] = peak[0] / 2**30, peak[1] / 2**30
    result["cpu_s"] = {}
    for role, seconds in cpu.values():  # a process's last sample (up to 0.2 s before it ended)
        result["cpu_s"][role] = result["cpu_s"].get(role, 0.0) + seconds
    # Peak per stage: the stages' seconds laid back from the end of the flow (its set-up before the
    # batches is a fraction of a second), so a stage whose memory grows with the year shows itself.
    end, result["stage_peaks_gb"] = result["ended_at"], {}
    for stage, seconds in reversed(list(result["seconds"].items())):
        window = [(tree, own) for t, tree, own in samples if end - seconds <= t <= end]
        if window:
            result["stage_peaks_gb"][stage] = (max(w[0] for w in window) / 2**30, max(w[1] for w in window) / 2**30)
        end -= seconds
    return result


def _line(label: str, n: int, r: dict) -> str:
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds"].items())
    return (f"{label:<22} {n:7d} reports {r['wall_s']:8.1f} s {n / r['wall_s']:7.1f} reports/s  "
            f"peak RSS {r['peak_rss_gb']:.2f} GB "
            f"(API server {r['server_rss_gb']:.2f} GB, start {r['server_start_s']:.1f} s)"
            f"  [{stages}]"
            + ("\n    peak RSS per stage (tree / flow process): " + ", ".join(
                f"{k} {tree:.2f}/{own:.2f} GB" for k, (tree, own) in reversed(r["stage_peaks_gb"].items()))
               if r.get("stage_peaks_gb") else "")
            + ("\n    CPU seconds (whole run, server start included): " + ", ".join(
                f"{k} {v:.0f}" for k, v in sorted(r["cpu_s"].items())) if r.get("cpu_s") else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, nargs="+", default=[1000])
    parser.add_argument("--processes", type=int, default=0, help="reader processes (default: one per core)")
    parser.add_argument("--dask", type=int, default=0, help="run on a LocalCluster of this many workers")
    parser.add_argument("--no-rerun", action="store_true")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="documents per batch (the flow's default)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        catalogue, data_dir, year, dask, batch_size = args.child
        _child(catalogue, data_dir, int(year), int(dask), int(batch_size))
        return
    from bench.generate_year import generate

    mode = f"dask {args.dask} workers" if args.dask else f"{args.processes or os.cpu_count()} reader process(es)"
    for n in args.reports:
        work = Path(tempfile.mkdtemp(prefix="xxgk-national-"))
        try:
            start = time.perf_counter()
            catalogue = generate(n, 2021, work / "year")
            print(f"generated {n} reports in {time.perf_counter() - start:.0f} s", flush=True)
            first = measure(catalogue, work / "data", 2021, work / "home", args.processes, args.dask, args.batch_size)
            print(_line(f"fresh, {mode}", n, first), flush=True)
            if not args.no_rerun:
                again = measure(catalogue, work / "data", 2021, work / "home", args.processes, args.dask,
                                args.batch_size)
                print(_line("rerun, unchanged", n, again), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
