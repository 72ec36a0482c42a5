"""The README's promises: two set-up commands first, and CI runs the same test command."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", readme)[:2]


def test_readme_opens_with_two_setup_commands() -> None:
    main_cmd, test_cmd = _commands()
    assert "pip install" in main_cmd and main_cmd.rstrip().endswith("xxgk run")
    assert "pip install" in test_cmd and test_cmd.rstrip().endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci.splitlines()
