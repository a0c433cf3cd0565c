"""The floors of docs/architecture.md hold (import-linter, .importlinter; `make lint` runs it
too), and a contract can fail: an upward import written into a copy of the tree breaks it."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from tests.project import PROJECT_PACKAGES

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def root_packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120
    )


def test_every_app_of_the_project_has_its_floor() -> None:
    assert set(root_packages()) == set(PROJECT_PACKAGES)


def test_the_tree_keeps_its_floors() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_an_upward_import_breaks_the_floors(tmp_path: Path) -> None:
    for app in root_packages():
        shutil.copytree(
            ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("*.pyc", "templates", "static")
        )
    shutil.copy(ROOT / ".importlinter", tmp_path)
    (tmp_path / "assets" / "upward.py").write_text("from tickets.models import WorkOrder\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "assets is not allowed to import tickets" in result.stdout
    assert "assets.upward -> tickets.models" in result.stdout
