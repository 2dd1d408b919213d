"""
Every C{# -*- test-case-name: ... -*-} marker (which tells Twisted's tools
and editors what tests to run for a module) names test modules that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^#.*-\*-\s*test-case-name:\s*(\S+?)\s*-\*-", re.MULTILINE)


def markers() -> dict[str, list[str]]:
    """Each marked file (relative to the project) and the modules its marker names."""
    found = {}
    for folder in ("ocppcs", "twisted", "bench", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            with path.open(encoding="utf-8") as f:
                head = f.readline() + f.readline()  # the first line, or the second after #!
            match = MARKER.search(head)
            if match:
                found[str(path.relative_to(ROOT))] = match.group(1).split(",")
    return found


def exists(name: str) -> bool:
    """Whether the dotted C{name} is a module or package of the project."""
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_markers_name_existing_test_modules() -> None:
    found = markers()
    assert "ocppcs/transports/lean.py" in found  # the scan sees them
    stale = {path: [name for name in names if not exists(name)] for path, names in found.items()}
    assert not {path: names for path, names in stale.items() if names}, (
        "test-case-name markers naming modules that do not exist (fix or remove them)"
    )
