"""One Prefect backend (a temporary SQLite database and ephemeral server) for every flow test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_backend() -> Iterator[None]:
    import prefect.settings as ps
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180), \
            temporary_settings(updates={ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
