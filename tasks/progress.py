"""Progress of a run, as counts per year and stage, for whoever listens in this process.

The flows announce what they have done (`announce(2024, discovered=1200)`, then after every batch
the running totals of fetched / extracted / failed, then quarantined and published); the command
line listens and draws a live table on a terminal, or prints plain lines otherwise. Nothing listens
in a served or worker run: announcing is then a dictionary update, and Prefect's log lines carry
the same figures to the server.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Final

STAGES: Final = ("discovered", "fetched", "extracted", "failed", "quarantined", "published")

Listener = Callable[[int, dict[str, int]], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def announce(year: int, **counts: int) -> None:
    """Tell the listeners the latest counts of `year` (only the stages given change; "fetched" counts
    documents fetched or confirmed unchanged)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(year, counts)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener(year, counts)` on every announcement made while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
