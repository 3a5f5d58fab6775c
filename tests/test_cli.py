"""The ``bayesopt`` command on journals made here: every subcommand, and its errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bayesopt as bo
from bayesopt.cli import main

REPO = Path(__file__).resolve().parents[1]
SPACE = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical(["a", None, 3])})


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "study.jsonl"
    rs = bo.RandomSearch(SPACE, seed=0, storage=path)
    for _ in range(5):
        t = rs.ask()
        rs.tell(t, t.params["x"])
    rs.tell(rs.ask(), failed=True, error="ValueError: boom")
    rs.close()
    return path


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_show_and_best(study):
    code, text = _run("show", str(study), "--last", "3")
    assert code == 0
    assert "RandomSearch (seed 0, minimize)" in text and "6: 5 complete, 1 failed" in text
    assert len(text.split("last 3 trials:")[1].strip().splitlines()) == 4  # header + 3
    best = bo.load(study).best
    code, text = _run("best", str(study), "--json")
    assert code == 0 and json.loads(text) == {
        "id": best.id,
        "state": "complete",
        "params": best.params,
        "value": best.value,
    }


def test_show_best_and_export_on_a_study_with_two_objectives(tmp_path, capsys):
    path = tmp_path / "mo.jsonl"
    rs = bo.RandomSearch(SPACE, seed=0, storage=path, objectives={"f": "min", "g": "min"})
    for _ in range(6):
        t = rs.ask()
        rs.tell(t, {"f": t.params["x"], "g": 1.0 - t.params["x"] ** 2})
    rs.close()
    front = bo.load(path).pareto_front()
    code, text = _run("show", str(path))
    assert code == 0 and f"front     {len(front)} Pareto-optimal trial(s)" in text
    assert ", ".join(f"#{t.id}" for t in front) in text
    code, _ = _run("best", str(path))
    assert code == 1 and "several objectives" in capsys.readouterr().err
    out = tmp_path / "mo.csv"
    assert _run("export", str(path), "--csv", str(out))[0] == 0
    assert len(list(csv.DictReader(out.open()))) == 6


def test_export_round_trips_the_records(study, tmp_path):
    out = tmp_path / "out.csv"
    assert _run("export", str(study), "--csv", str(out))[0] == 0
    rows = list(csv.DictReader(out.open()))
    records = bo.load(study).to_records()
    assert [int(r["id"]) for r in rows] == [r["id"] for r in records]
    assert [r["state"] for r in rows] == [r["state"] for r in records]
    assert float(rows[0]["value"]) == records[0]["value"]
    assert rows[-1]["error"] == "ValueError: boom"


def test_plot_and_report_write_their_files(study, tmp_path):
    pytest.importorskip("matplotlib")
    png, page = tmp_path / "s.png", tmp_path / "r.html"
    assert _run("plot", str(study), "--out", str(png))[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _run("report", str(study), "--html", str(page))[0] == 0
    text = page.read_text()
    assert "data:image/png;base64," in text and text.count("<tr>") == 7  # header + 6
    assert "ValueError: boom" in text


def test_ask_and_tell_drive_a_study_from_another_process(study):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "bayesopt.cli"]
    asked = subprocess.run([*cli, "ask", str(study), "-n", "2"], env=env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    first, second = (json.loads(line) for line in asked.stdout.splitlines())
    assert (first["id"], second["id"]) == (6, 7)
    told = subprocess.run([*cli, "tell", str(study), "6", "0.25"], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert told.stdout == "trial 6: complete 0.25\n"
    assert _run("tell", str(study), "7", "nan")[0] == 0
    assert _run("tell", str(study), "7", "1.0")[0] == 1  # told twice
    trials = bo.load(study).trials
    assert trials[6].value == 0.25 and trials[6].params == first["params"]
    assert trials[7].state is bo.TrialState.FAILED


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "{missing}"], "no such file"),
        (["show", "{garbage}"], "line 1"),
        (["tell", "{study}", "99", "1.0"], "unknown trial id 99"),
        (["tell", "{study}", "0", "abc"], "VALUE must be a number"),
        (["tell", "{study}", "0"], "pass VALUE"),
        (["best", "{empty}"], "no complete trial"),
    ],
)
def test_errors_are_one_line_with_status_1(study, tmp_path, capsys, argv, message):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not a journal\n")
    empty = tmp_path / "empty.jsonl"
    bo.RandomSearch(SPACE, seed=0, storage=empty).close()
    paths = {"missing": tmp_path / "nope.jsonl", "garbage": garbage, "study": study,
             "empty": empty}  # fmt: skip
    before = study.read_bytes()
    code, _ = _run(*(a.format(**paths) for a in argv))
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("bayesopt: ") and err.count("\n") == 1
    assert message in err
    assert study.read_bytes() == before


@pytest.mark.parametrize("command", ["show", "best", "export", "plot", "report", "ask", "tell"])
def test_every_subcommand_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "Example: bayesopt " + command in capsys.readouterr().out


def test_a_wrong_command_line_exits_with_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
