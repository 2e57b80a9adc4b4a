"""The README's Layout names every package, so it cannot fall behind the tree again."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Layout\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def named_packages(section: str) -> set[str]:
    """Package paths as the block writes them: a top-level name, then indented children."""
    block = section.split("```")[1]
    names: set[str] = set()
    parent = ""
    for line in block.splitlines():
        found = re.match(r"^( *)([a-z_]+)/", line)
        if not found:
            continue
        if found.group(1):
            names.add(f"{parent}/{found.group(2)}")
        else:
            parent = found.group(2)
            names.add(parent)
    return names


def tree_packages() -> set[str]:
    return {
        init.parent.relative_to(ROOT).as_posix()
        for top in ("engine", "gui", "plexsync_sim")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_is_in_the_layout() -> None:
    missing = tree_packages() - named_packages(layout_section())
    assert not missing, f"README Layout does not name: {sorted(missing)}"


def test_the_layout_names_no_package_that_is_gone() -> None:
    named = {
        n
        for n in named_packages(layout_section())
        if n.split("/")[0] in ("engine", "gui", "plexsync_sim")
    }
    gone = named - tree_packages()
    assert not gone, f"README Layout names packages that do not exist: {sorted(gone)}"
