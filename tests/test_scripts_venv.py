"""
C{scripts/venv.sh} (sourced by C{scripts/run} and C{scripts/test}) runs pip
only when needed: on a fresh clone, when the packaging files or the extras
change, or when ocppcs is not importable from C{.venv}; otherwise a start is
not slowed by a reinstall. The real script runs in a scratch project whose
C{.venv/bin/python} records what it is asked to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

#: Stands in for .venv/bin/python: logs "pip install ARGS", and is "importable"
#: once such an install has run (until the marker is removed).
FAKE_PYTHON = """#!/usr/bin/env bash
here="$(dirname "$0")"
case "$1" in
    -V) echo "Python 3.11.7" ;;
    -m) [ "$2" = pip ] && [ "$3" = install ] || exit 2
        shift 3; echo "pip install $*" >>"$here/../calls"; touch "$here/../importable" ;;
    -I) [ -e "$here/../importable" ] ;;
    *) exit 2 ;;
esac
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with the real scripts/venv.sh and a recording .venv/bin/python."""
    if shutil.which("python3.11") is None and shutil.which("python3") is None:
        pytest.skip("no python3 on PATH for scripts/venv.sh to find")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "venv.sh", tmp_path / "scripts" / "venv.sh")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = ocppcs\n")
    (tmp_path / "pyproject.toml").write_text("[build-system]\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def installs(project: Path, extras: str) -> list[str]:
    """Source venv.sh with C{extras}; the pip installs it ran."""
    calls = project / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run(
        ["bash", "-c", f'. scripts/venv.sh "{extras}"'],
        cwd=project,
        check=True,
        env={**os.environ, "PIP_NO_INDEX": "1"},
        timeout=60,
    )
    return calls.read_text().splitlines() if calls.exists() else []


def test_installs_only_when_needed(project: Path) -> None:
    """Once installed, a start runs no pip; a change of what the install depends on does."""
    [first] = installs(project, "")
    assert first.startswith("pip install ") and "-e ." in first and "editable_mode=compat" in first
    assert installs(project, "") == []
    assert installs(project, "") == []
    # the test extras need their own install, which then serves both
    [test] = installs(project, "test")
    assert "-e .[test]" in test
    assert installs(project, "test") == []
    assert installs(project, "") == []
    # packaging files changed: install again
    (project / "setup.cfg").write_text("[metadata]\nname = ocppcs\nversion = 2\n")
    assert len(installs(project, "test")) == 1
    assert installs(project, "test") == []
    # not importable any more (e.g. uninstalled): install again
    (project / ".venv" / "importable").unlink()
    assert len(installs(project, "test")) == 1
    assert installs(project, "test") == []


def test_failed_install_stops_and_is_retried(project: Path) -> None:
    """A pip failure stops the script (non-zero) and leaves no stamp, so the next start retries."""
    python = project / ".venv" / "bin" / "python"
    python.write_text(
        FAKE_PYTHON.replace('    -m) [ "$2"', '    -m) echo boom >&2; exit 1; [ "$2"')
    )
    failed = subprocess.run(
        ["bash", "-c", '. scripts/venv.sh ""'], cwd=project, capture_output=True, text=True
    )
    assert failed.returncode != 0
    assert "boom" in failed.stderr and "failed" in failed.stderr
    python.write_text(FAKE_PYTHON)
    assert len(installs(project, "")) == 1
