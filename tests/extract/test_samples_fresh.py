"""The bundled HTML samples are exactly what the fixture renderer produces (no silent drift)."""

from __future__ import annotations

from tests.conftest import SAMPLES
from tests.fixtures.write_samples import rendered_samples


def test_committed_html_samples_match_the_renderer() -> None:
    for name, data in rendered_samples().items():
        assert (SAMPLES / name).read_bytes() == data, f"run: python -m tests.fixtures.write_samples ({name})"
