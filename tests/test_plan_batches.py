"""`plan_batches`: every document in exactly one batch, no batch over the size, and a host in more
than one batch only when it alone fills a batch (the flow then runs its batches one at a time)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.catalogue import Target
from tasks.runs import host_of, plan_batches


def _targets(hosts: list[int]) -> list[Target]:
    return [Target(source=f"d{i}", location=f"http://h{h}.gov.cn/r{i}.html" if h >= 0 else f"local/r{i}.txt",
                   year=2021, organ=None, region=None, level=None)
            for i, h in enumerate(hosts)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=12), max_size=120), st.integers(min_value=1, max_value=15))
def test_every_document_once_and_hosts_kept_together(hosts: list[int], size: int) -> None:
    targets = _targets(hosts)
    batches = plan_batches(targets, size)
    assert sorted(t.source for b in batches for t in b) == sorted(t.source for t in targets)
    assert all(0 < len(b) <= size for b in batches)
    per_host = Counter(t for t in (host_of(x) for x in targets) if t is not None)
    for host, n in per_host.items():
        holding = [b for b in batches if any(host_of(t) == host for t in b)]
        if n < size:
            assert len(holding) == 1, (host, n, size)  # a small host is never split
        else:
            assert len(holding) == -(-n // size)  # a big host: as few batches as its documents need


def test_small_hosts_are_packed() -> None:
    batches = plan_batches(_targets([0, 1, 0, 2, 3, 3, 1]), 4)
    assert [[t.source for t in b] for b in batches] == [["d0", "d2", "d1", "d6"], ["d3", "d4", "d5"]]
