"""The layers and the engine's front door (DESIGN §1), as import-linter checks them.

Each contract in pyproject.toml is one test, so a forbidden import fails ``make test`` with the
contract's own report: which module imports what, on which line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"
]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_import_contract_is_kept(contract: str) -> None:
    checked = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT,
        env=os.environ | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if checked.returncode != 0:
        pytest.fail(f"import contract {contract!r} is broken:\n{checked.stdout}{checked.stderr}")


def test_front_door_names_exist() -> None:
    missing = [name for name in engine.__all__ if not hasattr(engine, name)]
    assert missing == []
    assert len(set(engine.__all__)) == len(engine.__all__)


@pytest.mark.parametrize(
    "first", ["engine", "engine.records", "engine.store.sqlite", "engine.agent.runtime"]
)
def test_engine_imports_whichever_module_comes_first(first: str) -> None:
    """Engine modules import each other by path, so no import order meets a half-built one."""
    code = f"import {first}\nimport engine\nprint(len(engine.__all__))"
    ran = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(len(engine.__all__))
