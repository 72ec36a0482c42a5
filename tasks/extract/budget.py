"""Read documents in worker processes, each document under a time and a memory budget.

One hostile or broken document must cost that document and nothing else: not the year (an
exception), not the run (a hang), not the machine (gigabytes of memory). The readers cap the work
a real report needs before doing it, but a cap can be missed; so in the flows every document is
read in a worker process that the parent watches:

* the parent sends one document at a time and waits for the answer, polling the worker's
  resident memory (`/proc/<pid>/statm`) every few milliseconds;
* past `timeout_s` or `memory_bytes` the worker is killed (SIGKILL) and replaced, and the
  document gets the reason ("over the 10 s time budget", "over the 1024 MB memory budget");
* a worker that dies on its own (a crash in a C extension) costs only the document it held.

Workers are started once per process with the `forkserver` method (never `fork` from a threaded
Prefect process) and reused across batches; `read_in_budget` runs a list of documents on
`workers` of them in parallel, so extraction also uses every core.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

from tasks.model import Report

DEFAULT_TIMEOUT_S: Final = 10.0
DEFAULT_MEMORY_BYTES: Final = 1024 * 1024 * 1024
_POLL_S: Final = 0.005
_PAGE: Final = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Job:
    """One document to read: its bytes and what `read_report` is told about it."""

    data: bytes
    source: str
    content_type: str | None = None
    organ: str | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A read report, or why there is none: `error` is "<Type>: <reason>" in one line."""

    report: Report | None
    error: str | None = None
    seconds: float = 0.0


def _serve(conn: Connection) -> None:
    """Worker loop: read each job sent, answer with the report or the error, until told to stop."""
    import logging

    from tasks.errors import XxgkError
    from tasks.extract.reader import read_report

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # a damaged PDF logs a line per bad operator

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        start = time.perf_counter()
        try:
            report = read_report(job.data, source=job.source, content_type=job.content_type,
                                 organ=job.organ, year=job.year)
            answer = Outcome(report, None, time.perf_counter() - start)
        except XxgkError as exc:
            answer = Outcome(None, f"{type(exc).__name__}: {exc.reason}", time.perf_counter() - start)
        except MemoryError:
            answer = Outcome(None, "MemoryError: the document needs more memory than the worker has",
                             time.perf_counter() - start)
        except Exception as exc:  # any failure is this document's reason, never the worker's end
            answer = Outcome(None, f"internal error while reading ({type(exc).__name__}: {str(exc)[:200]})",
                             time.perf_counter() - start)
        conn.send(answer)


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="xxgk-reader")
        self.process.start()
        child.close()

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as f:
                return int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def read(self, job: Job, timeout_s: float, memory_bytes: int) -> Outcome:
        start = time.perf_counter()
        try:
            self.conn.send(job)
        except (BrokenPipeError, OSError):
            return Outcome(None, "internal error: the reader process was gone")
        while True:
            if self.conn.poll(_POLL_S):
                try:
                    return self.conn.recv()
                except (EOFError, OSError):
                    code = self.process.exitcode
                    return Outcome(None, f"the reader process died while reading (exit code {code})",
                                   time.perf_counter() - start)
            elapsed = time.perf_counter() - start
            if not self.process.is_alive():
                return Outcome(None, f"the reader process died while reading (exit code {self.process.exitcode})",
                               elapsed)
            if elapsed > timeout_s:
                raise _Exceeded(f"over the {timeout_s:g} s time budget for one document", elapsed)
            if self.rss() > memory_bytes:
                raise _Exceeded(f"over the {memory_bytes // (1024 * 1024)} MB memory budget for one document",
                                elapsed)


class _Exceeded(Exception):
    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class _Pool:
    """Idle workers, started on demand and reused; a killed worker is simply not returned."""

    def __init__(self) -> None:
        self._context = mp.get_context("forkserver")
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
        return _Worker(self._context)

    def give(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)


_POOL = _Pool()


def read_in_budget(jobs: Sequence[Job], *, workers: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_bytes: int = DEFAULT_MEMORY_BYTES) -> list[Outcome]:
    """Read every job in worker processes (`workers` at a time); outcomes in the order of the jobs."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    next_job = 0
    lock = threading.Lock()

    def run() -> None:
        nonlocal next_job
        worker = _POOL.take()
        try:
            while True:
                with lock:
                    if next_job >= len(jobs):
                        return
                    i = next_job
                    next_job += 1
                try:
                    outcomes[i] = worker.read(jobs[i], timeout_s, memory_bytes)
                except _Exceeded as exc:
                    worker.kill()
                    outcomes[i] = Outcome(None, f"ResourceLimit: {exc.reason}", exc.seconds)
                    worker = _POOL.take()
                    continue
                if not worker.process.is_alive():
                    worker = _POOL.take()
        finally:
            if worker.process.is_alive():
                _POOL.give(worker)

    threads = [threading.Thread(target=run, name=f"xxgk-read-{k}") for k in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [o if o is not None else Outcome(None, "internal error: not read") for o in outcomes]
