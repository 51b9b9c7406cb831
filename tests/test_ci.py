"""README's commands and the repository they run in: ``.ci/`` scripts, and nothing from outside.

``.ci/lib.sh`` holds what ``.ci/run`` and ``.ci/test`` share: the phase timings and
``ensure_venv``, which lets README's install command and its test command share ``.venv`` in
either order. These tests run its functions in bash, against throwaway directories.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci"
BASH = shutil.which("bash") or "bash"


def _bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # `python3` is the interpreter running the tests, as it is for .ci/test (venv first on PATH).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [BASH, "-c", f"set -euo pipefail; source {CI / 'lib.sh'}; {script}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False,
    )


def test_timings_report_each_phase_and_the_exit_status(tmp_path: Path) -> None:
    result = _bash('phase "first"; phase "second"; exit 3', tmp_path)
    assert result.returncode == 3
    report = result.stdout.split("=== timings\n", 1)[1].splitlines()
    assert [re.sub(r"^\s*\d+s\s+", "", line) for line in report] == [
        "first", "second", "total (exit 3)"
    ]


def test_ensure_venv_reuses_a_working_venv_and_remakes_a_broken_one(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    made = _bash("ensure_venv .venv", tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (venv / "bin" / "python").exists()
    # what README's install command put there must survive the test command, and back
    (venv / "installed-by-the-other-command").touch()

    reused = _bash("ensure_venv .venv", tmp_path)
    assert reused.returncode == 0, reused.stdout + reused.stderr
    assert "reusing .venv" in reused.stdout
    assert (venv / "installed-by-the-other-command").exists()

    for python in (venv / "bin").glob("python*"):
        python.unlink()
    remade = _bash("ensure_venv .venv", tmp_path)
    assert remade.returncode == 0, remade.stdout + remade.stderr
    assert "not a working venv" in remade.stdout
    assert not (venv / "installed-by-the-other-command").exists()
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"],
                         capture_output=True, check=False)
    assert pip.returncode == 0


def test_test_command_phases() -> None:
    text = (CI / "test").read_text()
    assert re.findall(r'^phase "([^"]+)"', text, re.MULTILINE) == [
        "python venv",
        "js: npm ci",
        "js: build",
        "js: test",
        "js: typecheck",
        "js: committed bundle is current",
        "lint: ruff, mypy --strict",
        "tests",
    ]
    # The JS phases run on every machine: only .ci/lib.sh may remove a venv (a broken one).
    assert "package.json ]]" not in text
    assert "rm -rf" not in text
    assert 'pip install -e ".[test]"' in text


@pytest.mark.parametrize("script", ["run", "test"])
def test_scripts_share_lib(script: str) -> None:
    text = (CI / script).read_text()
    assert "source .ci/lib.sh" in text
    for name in ("phase", "finish_phase", "report_timings", "ensure_venv"):
        assert f"{name}() {{" not in text, f".ci/{script} defines {name} again: it is in lib.sh"


# Paths that would reach beside the repository: a fresh clone has nothing there.
OUTSIDE = re.compile(r"\.\./shared/|\bshared/(?:conformance|E2E\.md|DESIGN\.md|STYLE\.md)")
SKIP_DIRS = {".git", ".venv", "node_modules", ".hypothesis", ".mypy_cache", ".ruff_cache",
             ".pytest_cache", "__pycache__", "output", "static"}


def test_no_file_reads_beside_the_repository() -> None:
    found = []
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIP_DIRS]
        for name in files:
            path = Path(directory) / name
            if path == Path(__file__) or path.suffix not in {
                ".py", ".ts", ".mjs", ".json", ".md", ".toml", ".sh", ".cfg", ""
            }:
                continue
            text = path.read_text(errors="replace")
            found += [f"{path.relative_to(ROOT)}: {m.group()}" for m in OUTSIDE.finditer(text)]
    assert found == []
