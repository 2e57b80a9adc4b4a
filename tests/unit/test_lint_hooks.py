"""The pre-commit hooks run the same checks, with the same arguments, as `make lint`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_lint_commands() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no lint target"
    # make names the whole tree (" ."); pre-commit passes the changed files in its place.
    return {
        line.strip().replace("$(BIN)/", "").removesuffix(" .")
        for line in recipe.group(1).splitlines()
    }


def hook_commands() -> set[str]:
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    entries = re.findall(r"^\s*entry:\s*(.+)$", config, re.MULTILINE)
    # --force-exclude only makes ruff honour pyproject's excludes for the files pre-commit names.
    return {e.strip().replace(".venv/bin/", "").replace(" --force-exclude", "") for e in entries}


def test_every_lint_command_is_a_hook_and_no_hook_is_extra() -> None:
    assert hook_commands() == make_lint_commands()
