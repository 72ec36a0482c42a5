"""Run a plain function in a fresh interpreter and get its result back; its memory goes at its exit.

    value = run_isolated("tasks.year:stage_dataset", data_dir, year, ...)

Why: the gate and the staging of a national year allocate gigabytes in turn (the pandas copies
Great Expectations validates, Parquet buffers). Freed, that memory stays with a long-lived flow
process (the allocators keep it), so the flow's RSS grew with the year: 1.6 GB at 40,000 reports,
3.5 GB at 140,000. A child process gives all of it back when it ends, and two children use both
cores.

A plain `python -m tasks.isolated` child (arguments and result pickled over its stdin and stdout),
not `multiprocessing`: it never re-imports the parent's `__main__`, so a script, a notebook or a
Prefect worker can use it without the `if __name__ == "__main__"` idiom. What the function prints
goes to the child's stderr; an exception it raises is raised again in the parent.
"""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

from tasks.errors import XxgkError

_PACKAGE_ROOT: Final = str(Path(__file__).resolve().parents[1])
_STDERR_KEPT: Final = 2000
_PAGE: Final = os.sysconf("SC_PAGE_SIZE")


class IsolatedError(XxgkError):
    """The child process died (killed, out of memory, a crash in a C extension) before it answered."""


def child_env() -> dict[str, str]:
    """The environment of a `python -m tasks.…` child: this one, with the package importable even when
    the parent found it through its working directory (a script run from a checkout, a notebook)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")])}


def run_isolated(target: str, *args: Any) -> Any:
    """`module:function(*args)` in a child interpreter; its return value (or its exception)."""
    proc = subprocess.run([sys.executable, "-m", "tasks.isolated"], input=pickle.dumps((target, args)),
                          capture_output=True, env=child_env(), check=False)
    if proc.returncode != 0 or not proc.stdout:
        tail = proc.stderr.decode(errors="replace")[-_STDERR_KEPT:].strip()
        raise IsolatedError(f"{target} died in its process (exit code {proc.returncode}): {tail or 'no output'}")
    ok, value = pickle.loads(proc.stdout)
    if not ok:
        raise value
    return value


def give_back_freed_memory() -> int:
    """Return the C heap's free pages to the system (glibc `malloc_trim`); bytes of RSS given back.

    A long-lived process that unpickled a year's batches keeps the memory it freed: glibc holds
    freed blocks for reuse, and the flow process stayed ~0.1–0.2 GB above what it uses through the
    gate and staging, which run in children beside it. Elsewhere than glibc, nothing (0).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return 0
    before = resident_bytes()
    gc.collect()
    libc.malloc_trim(0)
    return max(0, before - resident_bytes())


def resident_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process (`/proc/<pid>/statm`); 0 once it is gone, or without /proc."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _serve() -> None:
    """The child: read (target, args) from stdin, run it, write (ok, value) to the real stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # anything the function prints must not corrupt the answer
    target, args = pickle.load(sys.stdin.buffer)
    module, _, name = target.partition(":")
    try:
        answer = (True, getattr(importlib.import_module(module), name)(*args))
    except Exception as exc:  # raised again in the parent, with its type when it pickles
        answer = (False, exc)
    try:
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle still says what it was
        data = pickle.dumps((False, IsolatedError(f"{target}: {type(answer[1]).__name__}: {answer[1]}")))
    out.write(data)
    out.flush()


if __name__ == "__main__":
    _serve()
