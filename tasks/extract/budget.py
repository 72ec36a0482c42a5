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

Workers are plain child interpreters (`python -m tasks.extract.budget`, pickles over pipes; never a
`fork` of a threaded Prefect process), started on demand and reused across batches; at most
`MAX_PROCESSES` (one per core) run at once. `read_in_budget` runs a list of documents on `workers`
of them in parallel, so extraction also uses every core.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, BinaryIO, Final

from tasks.isolated import child_env, resident_bytes
from tasks.model import Report

DEFAULT_TIMEOUT_S: Final = 10.0
DEFAULT_MEMORY_BYTES: Final = 1024 * 1024 * 1024
_POLL_S: Final = 0.005
_READY: Final = "ready"
# How long a new worker may take to start and import the readers (a loaded CI machine: seconds);
# never counted against a document's budget.
_START_TIMEOUT_S: Final = 120.0
# A reader that knows a document needs more (OCR of a scan: seconds per page, and the detection
# model's ~0.8 GB) asks for it (`ask_for_more`); the parent grants it up to these limits over the
# budget it was given, and says so in the reason if the document still runs over.
MAX_EXTRA_S: Final = 600.0
MAX_MEMORY_BYTES: Final = 3 * 1024 * 1024 * 1024
_MORE: Final = "more"
_ask: Callable[[float, int], None] | None = None


def ask_for_more(seconds: float, memory_bytes: int = 0) -> None:
    """Ask the watching parent for `seconds` more time on the current document and a memory budget
    of at least `memory_bytes` (a no-op outside a reader process)."""
    if _ask is not None:
        _ask(seconds, memory_bytes)


@dataclass(frozen=True, slots=True)
class Job:
    """One document to read: its bytes and what `read_report` is told about it."""

    data: bytes
    source: str
    content_type: str | None = None
    organ: str | None = None
    year: int | None = None
    # (report_id, fetched_at): answer with the document's rows (`batch.document_rows`), not its Report
    row_context: tuple[str, datetime | None] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A read report, or why there is none: `error` is "<Type>: <reason>" in one line."""

    report: Report | None
    error: str | None = None
    seconds: float = 0.0
    granted_s: float = 0.0  # time the reader asked for and got over the budget (OCR: 30 s a page)
    rows: dict[str, dict[str, list[Any]]] | None = None  # dataset → column → values (Job.row_context)


def _serve_stdio() -> None:
    """Worker loop (`python -m tasks.extract.budget`): read each job from stdin, answer on stdout."""
    import logging

    from tasks.errors import XxgkError
    from tasks.extract.reader import read_report

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # a damaged PDF logs a line per bad operator
    global _ask
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    _ask = lambda seconds, memory: _send(out, (_MORE, float(seconds), int(memory)))  # noqa: E731
    _send(out, _READY)  # imports done: from here on the parent's clock is the document's
    while True:
        job = _receive(inp)
        if job is None:
            return
        start = time.perf_counter()
        try:
            report = read_report(job.data, source=job.source, content_type=job.content_type,
                                 organ=job.organ, year=job.year)
            if job.row_context is None:
                answer = Outcome(report, None, time.perf_counter() - start)
            else:
                from tasks.extract.batch import document_rows

                answer = Outcome(None, None, time.perf_counter() - start, rows=document_rows(report, job))
        except XxgkError as exc:
            answer = Outcome(None, f"{type(exc).__name__}: {exc.reason}", time.perf_counter() - start)
        except MemoryError:
            answer = Outcome(None, "MemoryError: the document needs more memory than the worker has",
                             time.perf_counter() - start)
        except Exception as exc:  # any failure is this document's reason, never the worker's end
            answer = Outcome(None, f"internal error while reading ({type(exc).__name__}: {str(exc)[:200]})",
                             time.perf_counter() - start)
        _send(out, answer)


def _send(stream: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("!Q", head)
    return pickle.loads(stream.read(size))


class _Worker:
    """One reader process: a plain `python -m tasks.extract.budget` child talking pickles over pipes.

    (A subprocess, not `multiprocessing`: the child never re-imports the parent's `__main__`, so a
    script, a notebook or a Prefect worker can use it without the `if __name__ == "__main__"` idiom.)
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tasks.extract.budget"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env())
        self.ready = False

    def wait_ready(self) -> bool:
        """Wait for the worker's "ready" (its imports done), so startup is not billed to a document."""
        assert self.process.stdout is not None
        if not self.ready:
            ready, _, _ = select.select([self.process.stdout.fileno()], [], [], _START_TIMEOUT_S)
            try:
                self.ready = bool(ready) and _receive(self.process.stdout) == _READY
            except (EOFError, OSError, pickle.UnpicklingError):
                self.ready = False
        return self.ready

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss(self) -> int:
        return resident_bytes(self.process.pid)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def read(self, job: Job, timeout_s: float, memory_bytes: int) -> Outcome:
        assert self.process.stdin is not None and self.process.stdout is not None
        if not self.wait_ready():
            self.kill()
            return Outcome(None, f"the reader process did not start (exit code {self.process.poll()})")
        start = time.perf_counter()
        try:
            _send(self.process.stdin, job)
        except (BrokenPipeError, OSError):
            return Outcome(None, f"the reader process died before reading (exit code {self.process.poll()})")
        fd = self.process.stdout.fileno()
        granted = 0.0
        while True:
            ready, _, _ = select.select([fd], [], [], _POLL_S)
            if ready:
                try:
                    answer = _receive(self.process.stdout)
                except (EOFError, OSError, pickle.UnpicklingError):
                    answer = None
                if answer is None:
                    return Outcome(None, f"the reader process died while reading (exit code {self.process.wait(5)})",
                                   time.perf_counter() - start)
                if isinstance(answer, tuple) and answer[:1] == (_MORE,):
                    extra = min(answer[1], MAX_EXTRA_S - granted)
                    granted += extra
                    timeout_s += extra
                    memory_bytes = max(memory_bytes, min(answer[2], MAX_MEMORY_BYTES))
                    continue
                return replace(answer, granted_s=granted) if granted else answer
            elapsed = time.perf_counter() - start
            if not self.alive():
                return Outcome(None, f"the reader process died while reading (exit code {self.process.poll()})",
                               elapsed)
            if elapsed > timeout_s:
                raise _Exceeded(f"over the {timeout_s:g} s time budget for one document"
                                + (f" ({granted:g} s of it asked for by the reader)" if granted else ""), elapsed)
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
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
        return _Worker()

    def give(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        """Stop the idle workers (at exit): end of input ends their loop; a straggler is killed."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            with contextlib.suppress(OSError):
                if worker.process.stdin is not None:
                    worker.process.stdin.close()
            try:
                worker.process.wait(2)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(2)
            if worker.process.stdout is not None:
                worker.process.stdout.close()


_POOL = _Pool()
atexit.register(_POOL.close)


def stop_idle_readers() -> None:
    """Stop the reader processes that wait for work (those reading now finish and are kept): after
    a year's batches, ~0.1 GB each that its validation and staging can use. Readers start again on demand."""
    _POOL.close()


# Reader processes alive at once, whatever the number of batches the flow runs concurrently:
# one per core by default (XXGK_READ_PROCESSES overrides), so a 2-core box does twice the work of
# one thread and a thread runner with 100 batches in flight does not start 100 processes.
MAX_PROCESSES: Final = int(os.environ.get("XXGK_READ_PROCESSES", "0")) or (os.cpu_count() or 1)
_SLOTS = threading.BoundedSemaphore(MAX_PROCESSES)


_frozen = 0  # batches being read now
_thresholds = gc.get_threshold()  # the collector's own, put back when the last one ends
_frozen_lock = threading.Lock()
_YOUNG_THRESHOLD: Final = 50_000  # container allocations between young collections while reading (default 700)


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """While any batch is being read, the objects that were there before it stay out of the cyclic
    garbage collector's walks (`gc.freeze`) and young collections are rarer; both undone when the
    last batch in flight ends.

    Unpickling a batch's rows makes hundreds of containers a document that live until the batch's
    frames are made: they kept setting off collections, and in a flow process a full collection
    walks every object of Prefect, Great Expectations and the rest. That was 40 % of the flow
    process's CPU while it read a year (py-spy, 20,000 reports). Unpickling a document's rows in a
    process with Prefect and GX imported: 0.61 ms, frozen 0.22–0.34 ms, and with this threshold
    0.19 ms (0.12 ms with no collector at all).
    """
    global _frozen, _thresholds
    with _frozen_lock:
        _frozen += 1
        if _frozen == 1:
            _thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(_thresholds[0], _YOUNG_THRESHOLD), *_thresholds[1:])
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen -= 1
            if _frozen == 0:
                gc.set_threshold(*_thresholds)
                gc.unfreeze()


def read_in_budget(jobs: Sequence[Job], *, workers: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_bytes: int = DEFAULT_MEMORY_BYTES) -> list[Outcome]:
    """Read every job in worker processes (`workers` at a time); outcomes in the order of the jobs."""
    with _heap_frozen():
        return _read_all(jobs, workers, timeout_s, memory_bytes)


def _read_all(jobs: Sequence[Job], workers: int, timeout_s: float, memory_bytes: int) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(jobs)
    next_job = 0
    lock = threading.Lock()

    def run() -> None:
        with _SLOTS:
            work()

    def work() -> None:
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
                if not worker.alive():
                    worker = _POOL.take()
        finally:
            if worker.alive():
                _POOL.give(worker)

    threads = [threading.Thread(target=run, name=f"xxgk-read-{k}") for k in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [o if o is not None else Outcome(None, "internal error: not read") for o in outcomes]


if __name__ == "__main__":  # the worker: serve with the importable module's classes, not __main__'s
    from tasks.extract import budget

    budget._serve_stdio()
