"""The benchmark command runs end to end (tiny sizes, short limits)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduling.solver.bench import main

from .test_solomon import C101, needs_data


def test_field_and_insert_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["field", "--jobs", "12", "--technicians", "3", "--time-limit", "0.5"]) == 0
    assert main(["insert", "--jobs", "12", "--technicians", "3", "--time-limit", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "checker: ok" in out and "other jobs moved" in out


@needs_data
def test_solomon_command_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bks = C101.parent / "bks_distance.csv"
    out_file = tmp_path / "out.json"
    argv = ["solomon", str(C101), "--time-limit", "0.5", "--engine", "pyvrp", "--engine", "vroom"]
    assert main([*argv, "--bks", str(bks), "--json", str(out_file)]) == 0
    result = json.loads(out_file.read_text())
    assert [i["name"] for i in result["instances"]] == ["C101", "C101"]
    assert all(len(i["routes"]) <= 25 and i["distance"] > 0 for i in result["instances"])
    assert "mean gap pyvrp" in capsys.readouterr().out
