"""The build fails on a lint finding or a type error: CI runs `make lint` (ruff check, ruff format --check, mypy)
before the suite, and mypy, with the project's own settings, refuses untyped and wrongly typed code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _target(makefile: str, name: str) -> list[str]:
    lines = makefile.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"{name}:")))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_ci_lints_before_it_tests_and_lint_runs_ruff_and_mypy():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in ci  # a failing step stops the build
    assert ci.index("make lint") < ci.index("make test")
    assert _target((ROOT / "Makefile").read_text(), "lint") == [
        "$(BIN)/ruff check foundation tests bench config.py",
        "$(BIN)/ruff format --check foundation tests bench config.py",
        "$(BIN)/mypy",
    ]


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "sample.py"
    module.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "cache"), str(module)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip


def test_mypy_with_the_project_settings_fails_on_a_type_error_an_untyped_function_and_a_bare_ignore(tmp_path):
    result = _mypy(
        tmp_path,
        "def pence(pounds: int) -> str:\n"
        "    return pounds * 100\n"
        "\n"
        "def untyped(x):\n"
        "    return x\n"
        "\n"
        "value: int = 'two'  # type: ignore\n",
    )
    assert result.returncode == 1, result.stdout
    assert (
        'sample.py:2: error: Incompatible return value type (got "int", expected "str")  [return-value]'
        in (result.stdout)
    )
    assert "sample.py:4: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout
    assert 'sample.py:7: error: "type: ignore" comment without error code' in result.stdout


def test_mypy_with_the_project_settings_passes_typed_code_and_flags_an_ignore_that_is_not_needed(tmp_path):
    clean = _mypy(tmp_path, "def pence(pounds: int) -> int:\n    return pounds * 100\n")
    assert clean.returncode == 0, clean.stdout

    stale = _mypy(
        tmp_path, "def pence(pounds: int) -> int:\n    return pounds * 100  # type: ignore[return-value]\n"
    )
    assert stale.returncode == 1
    assert 'sample.py:2: error: Unused "type: ignore" comment  [unused-ignore]' in stale.stdout
