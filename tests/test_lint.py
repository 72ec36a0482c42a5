"""The code stays ruff clean (the rules are in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess

from tests.conftest import ROOT


def test_ruff_check_is_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
