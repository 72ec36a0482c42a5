"""The public API of `tasks` is sorted and complete, like httpx's exported-members test."""

from __future__ import annotations

import tasks


def test_all_is_sorted_and_every_name_exists() -> None:
    assert tasks.__all__ == sorted(tasks.__all__)
    for name in tasks.__all__:
        assert hasattr(tasks, name), name


def test_every_error_is_an_xxgk_error() -> None:
    from tasks import errors

    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(c, tasks.XxgkError) for c in classes)
    err = tasks.NoTablesFound("no tables", source="a.html")
    assert str(err) == "a.html: no tables" and err.reason == "no tables"
