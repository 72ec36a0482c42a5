"""`run_isolated`: a plain function in a child interpreter, its value or its exception back."""

from __future__ import annotations

import pytest

from tasks.isolated import IsolatedError, run_isolated


def test_the_value_comes_back_and_what_the_function_prints_does_not_corrupt_it() -> None:
    assert run_isolated("json:dumps", {"年": 2021}) == '{"\\u5e74": 2021}'
    assert run_isolated("builtins:print", "to stdout, which the child sends to stderr") is None


def test_an_exception_is_raised_again_with_its_type() -> None:
    with pytest.raises(ValueError, match="math domain error"):
        run_isolated("math:sqrt", -1)


def test_a_child_that_dies_is_an_error_that_says_so() -> None:
    with pytest.raises(IsolatedError, match=r"os:_exit died in its process \(exit code 3\)"):
        run_isolated("os:_exit", 3)


def test_stage_groups_cover_every_dataset_once_in_at_most_one_group_per_process() -> None:
    from tasks.year import STAGE_ORDER, stage_groups

    for processes in range(0, 9):
        groups = stage_groups(processes)
        assert [d for g in groups for d in g] == list(STAGE_ORDER)  # each once, largest first
        assert 1 <= len(groups) <= max(1, processes) and all(groups)
    assert stage_groups(2)[0] == ("requests",)  # the largest dataset alone: the critical path


def fragment_the_heap_then_give_it_back() -> tuple[int, int]:
    """(RSS freed by dropping 200 MB of blocks, RSS given back by give_back_freed_memory), in a child."""
    from tasks.isolated import give_back_freed_memory, resident_bytes

    blocks = [bytes(2000) for _ in range(100_000)]
    last = blocks[-1]  # keeps the top of the heap in use: glibc trims nothing by itself
    before = resident_bytes()
    del blocks
    dropped = before - resident_bytes()
    given = give_back_freed_memory()
    assert last
    return dropped, given


def test_freed_heap_memory_is_given_back_to_the_system() -> None:
    dropped, given = run_isolated("tests.test_isolated:fragment_the_heap_then_give_it_back")
    assert dropped < 50 * 2**20  # the premise: freed, the blocks stay in the process
    assert given > 150 * 2**20
