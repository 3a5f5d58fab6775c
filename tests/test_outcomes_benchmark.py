"""The constrained and multi-objective benchmarks: problems, hypervolume, cells, reports."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from benchmarks import outcomes as bench
from benchmarks import store
from benchmarks.problems.outcomes import (
    MLP_MAX_PARAMS,
    OutcomeProblem,
    mlp_parameter_count,
    problem,
    problems,
)


def _point(prob: OutcomeProblem, values) -> dict[str, float]:
    return {f"x{i + 1}": float(v) for i, v in enumerate(values)}


def _small(name: str, budget: int) -> OutcomeProblem:
    return dataclasses.replace(problem(name), budget=budget)


# Problems -------------------------------------------------------------------------------------
def test_suites_hold_the_listed_problems():
    assert [p.name for p in problems("constrained")] == [
        "hartmann6-c", "gardner", "pressure-vessel", "spring", "welded-beam", "speed-reducer",
        "mlp-digits-size",
    ]  # fmt: skip
    multi = {p.name: p for p in problems("multiobjective")}
    assert set(multi) == {
        "branincurrin", "branincurrin-100", "dtlz2-m2", "dtlz2-m3", "dtlz2-m2-200",
        "dtlz2-m3-200", "zdt1", "zdt2", "zdt3", "vehiclesafety", "c2dtlz2", "mlp-digits-tradeoff",
    }  # fmt: skip
    assert multi["branincurrin-100"].budget == 100
    assert multi["dtlz2-m2-200"].budget == multi["dtlz2-m3-200"].budget == 200
    assert len(multi["dtlz2-m3"].objectives) == 3 and multi["dtlz2-m3"].dim == 6
    assert len(multi["vehiclesafety"].objectives) == 3
    assert multi["c2dtlz2"].constraints == {"c1": ("<=", 0.0)}
    with pytest.raises(ValueError, match="suite"):
        problems("bogus")
    with pytest.raises(KeyError):
        problem("bogus")


def test_gardner_optimum_and_constraint_sign():
    p = problem("gardner")
    best = p.fn({"x1": 3 * math.pi / 2, "x2": 0.0})
    assert best["value"] == pytest.approx(-2.0) == p.optimum
    assert best["c1"] == pytest.approx(-0.5) and p.feasible(best)
    # cos(x1 + x2) = 1 > 0.5: infeasible, c1 = +0.5.
    out = p.fn({"x1": math.pi, "x2": math.pi})
    assert out["c1"] == pytest.approx(0.5) and not p.feasible(out)


def test_constrained_hartmann_optimum_is_feasible_and_corner_is_not():
    p = problem("hartmann6-c")
    x_star = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    out = p.fn(_point(p, x_star))
    assert out["value"] == pytest.approx(p.optimum, abs=1e-4)
    assert out["c1"] == pytest.approx(math.sqrt(sum(v * v for v in x_star)) - 1.0)
    assert p.feasible(out)
    corner = p.fn(_point(p, [1.0] * 6))
    assert corner["c1"] == pytest.approx(math.sqrt(6.0) - 1.0) and not p.feasible(corner)


def test_spring_known_design_is_near_the_stated_optimum():
    p = problem("spring")
    out = p.fn(_point(p, [0.051689, 0.356718, 11.288966]))  # Coello Coello (2002)
    assert out["value"] == pytest.approx(p.optimum, rel=2e-3)
    assert max(out[c] for c in p.constraints) < 1e-4  # active constraints, up to rounding


def test_nan_constraint_counts_as_violated():
    p = problem("gardner")
    assert not p.feasible({"value": 0.0, "c1": math.nan})
    assert not p.feasible({"value": math.nan, "c1": -1.0})


def test_mlp_parameter_count_and_constraint_sign():
    assert mlp_parameter_count(10, 10) == 65 * 10 + 11 * 10 + 11 * 10
    p = problem("mlp-digits-size")
    assert mlp_parameter_count(256, 256) > MLP_MAX_PARAMS > mlp_parameter_count(4, 4)
    small = p.fn({"lr": 1e-2, "alpha": 1e-4, "width1": 8, "width2": 8})
    assert small["c1"] < 0 and 0.0 <= small["value"] <= 1.0
    assert small == p.fn({"lr": 1e-2, "alpha": 1e-4, "width1": 8, "width2": 8})  # deterministic


def test_dtlz2_and_zdt1_front_points():
    p = problem("dtlz2-m3")
    out = p.fn(_point(p, [0.3, 0.7, 0.5, 0.5, 0.5, 0.5]))  # x_M = 0.5: on the unit sphere
    assert sum(out[f] ** 2 for f in p.objectives) == pytest.approx(1.0)
    z = problem("zdt1")
    out = z.fn(_point(z, [0.25, 0, 0, 0, 0, 0]))  # g = 1: f2 = 1 - sqrt(f1)
    assert (out["f1"], out["f2"]) == pytest.approx((0.25, 0.5))


def test_botorch_reference_points_are_used():
    p = problem("branincurrin")
    assert p.ref_point == (18.0, 6.0) and p.max_hv == pytest.approx(59.36011874867746)
    assert problem("dtlz2-m2").ref_point == pytest.approx((1.1, 1.1))


def test_problem_rejects_bad_definitions():
    p = problem("gardner")
    with pytest.raises(ValueError, match="suite"):
        dataclasses.replace(p, suite="other")
    with pytest.raises(ValueError, match="budget"):
        dataclasses.replace(p, budget=0)
    with pytest.raises(ValueError, match="minimised"):
        dataclasses.replace(p, objectives={"value": "max"})


# Hypervolume ----------------------------------------------------------------------------------
def test_hypervolume_of_hand_made_points():
    assert bench.hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0]) == pytest.approx(3.0)
    # A dominated point and one beyond the reference point add nothing.
    assert bench.hypervolume([[1, 2], [2, 1], [2.5, 2.5], [0.5, 4]], [3, 3]) == pytest.approx(3.0)
    assert bench.hypervolume([[0.0, 0.0, 0.0]], [1.0, 2.0, 3.0]) == pytest.approx(6.0)
    assert bench.hypervolume(np.zeros((0, 2)), [1.0, 1.0]) == 0.0
    two = [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]  # boxes 2*2*1 and 1*1*2, overlap 1*1*1
    assert bench.hypervolume(two, [2.0, 2.0, 2.0]) == pytest.approx(4 + 2 - 1)


def test_hypervolume_trace_skips_infeasible_points():
    Y = [[2.0, 2.0], [1.0, 1.0], [0.0, 2.5], [1.0, 0.0]]
    trace = bench.hypervolume_trace(Y, [True, False, True, True], [3.0, 3.0])
    assert trace == pytest.approx([1.0, 1.0, 2.0, 6.5])


# Cells ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("contender", ["random", "random-2x", "bayesopt"])
def test_run_cell_is_seeded_and_reproducible(contender):
    p = _small("gardner", 4)  # budget within bayesopt's initial design: no GP fit
    a, b = bench.run_cell(p, contender, 3), bench.run_cell(p, contender, 3)
    factor = 2 if contender == "random-2x" else 1
    assert a["params"] == b["params"] and a["outcomes"] == b["outcomes"]
    assert len(a["outcomes"]) == 4 * factor and len(a["trace"]) == 4
    assert a["params"] != bench.run_cell(p, contender, 4)["params"]
    best = min(
        (o["value"] for o, ok in zip(a["outcomes"], a["feasible"], strict=True) if ok),
        default=None,
    )
    assert a["final"] == best and a["n_feasible"] == sum(a["feasible"])
    json.dumps(a)  # a record is plain JSON


def test_random_2x_extends_the_random_stream():
    p = _small("hartmann6-c", 5)
    one, two = bench.run_cell(p, "random", 0), bench.run_cell(p, "random-2x", 0)
    assert two["params"][:5] == one["params"]
    assert two["trace"][2] == min(
        (o["value"] for o, ok in zip(two["outcomes"][:6], two["feasible"][:6], strict=True) if ok),
        default=None,
    )


@pytest.mark.parametrize(
    ("name", "contender"),
    [
        ("gardner", "optuna-tpe"),
        ("gardner", "optuna-gp"),
        ("c2dtlz2", "optuna-tpe"),
        ("c2dtlz2", "optuna-nsga2"),
        ("dtlz2-m3", "optuna-gp"),
    ],
)
def test_optuna_cells_are_seeded(name, contender):
    pytest.importorskip("optuna")
    p = _small(name, 5)  # within Optuna's random start-up trials
    a, b = bench.run_cell(p, contender, 1), bench.run_cell(p, contender, 1)
    assert a["params"] == b["params"] and len(a["params"]) == 5
    assert all(set(o) == set(p.objectives) | set(p.constraints) for o in a["outcomes"])


def test_multiobjective_cell_traces_hypervolume():
    p = _small("branincurrin", 6)
    r = bench.run_cell(p, "random", 0)
    Y = [[o["f1"], o["f2"]] for o in r["outcomes"]]
    assert r["final"] == pytest.approx(bench.hypervolume(Y, p.ref_point))
    assert all(b >= a for a, b in zip(r["trace"], r["trace"][1:], strict=False))


def test_the_reference_point_variant_gives_the_problem_s_point():
    session = bench.make_session("bayesopt+ref", problem("dtlz2-m2"), 0)
    assert session.opt.reference_point() == {"f1": 1.1, "f2": 1.1}
    with pytest.raises(ValueError, match="no reference point"):
        bench.make_session("bayesopt+ref", problem("gardner"), 0)


def test_make_session_rejects_unknown_contender():
    with pytest.raises(KeyError, match="unknown contender"):
        bench.make_session("nope", problem("gardner"), 0)


def test_parse_seeds():
    assert bench.parse_seeds("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(ValueError, match="--seeds"):
        bench.parse_seeds("a-b")


# Runs and reports -----------------------------------------------------------------------------
def test_run_is_resumable_and_survives_a_torn_line(tmp_path):
    args = ["--results", str(tmp_path), "run", "--suite", "constrained", "--problems", "gardner"]
    args += ["--contenders", "random", "--seeds", "0-1"]
    assert bench.main(args) == 0
    path = tmp_path / "constrained" / "runs.jsonl"
    assert len(store.read_runs(path)) == 2
    with path.open("a") as f:
        f.write('{"problem": "gardner", "contend')  # a run killed mid-write
    assert bench.main(args) == 0  # nothing left to run
    assert len(store.read_runs(path)) == 2
    assert bench.main([*args[:-1], "0-2"]) == 0
    records = store.read_runs(path)
    assert sorted(r["seed"] for r in records) == [0, 1, 2]
    assert all(r["meta"]["host"]["cores"] for r in records)
    log = (tmp_path / "constrained" / "commands.log").read_text().splitlines()
    assert len(log) == 3 and log[0].endswith(" s") and "ran 2 cells" in log[0]


def _records(suite: str, names: list[str], contenders: list[str], budget: int) -> list[dict]:
    out = []
    for name in names:
        p = _small(name, budget)
        for c in contenders:
            for s in range(3):
                out.append(bench.run_cell(p, c, s) | {"meta": {"commit": "abc"}, "versions": {}})
    return out


def _write(tmp_path, suite: str, records: list[dict], budget: int, monkeypatch) -> str:
    folder = tmp_path / suite
    folder.mkdir()
    (folder / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    small = [dataclasses.replace(p, budget=budget) for p in problems(suite)]
    monkeypatch.setattr(bench, "problems", lambda s: small if s == suite else problems(s))
    bench.write_report(folder, suite)
    return (folder / "REPORT.md").read_text()


def test_constrained_report(tmp_path, monkeypatch):
    records = _records("constrained", ["gardner", "hartmann6-c"], ["random", "bayesopt"], 4)
    extra = bench.run_cell(_small("gardner", 4), "random", 7)  # a seed bayesopt lacks
    text = _write(tmp_path, "constrained", [*records, extra], 4, monkeypatch)
    assert "## Final log10 regret of the best feasible value" in text
    assert "## Fraction of feasible evaluations" in text
    assert "## bayesopt against each contender" in text and "Holm" in text
    assert "## Manifest" in text and "`gardner`" in text and "`ax`" in text
    assert (tmp_path / "constrained" / "curves.png").stat().st_size > 0
    # Gardner's known optimum is the reference, on the 3 seeds both contenders ran.
    assert "| `gardner` | 2 | 1 | 4 | 3 (0-2) | -2 | known optimum" in text


def test_multiobjective_report(tmp_path, monkeypatch):
    records = _records(
        "multiobjective", ["branincurrin", "dtlz2-m3"], ["random", "random-2x", "bayesopt"], 5
    )
    text = _write(tmp_path, "multiobjective", records, 5, monkeypatch)
    assert "## Final log10 hypervolume regret" in text
    assert "## Where a peer beats bayesopt" in text
    assert "**minimised**" in text and "59.3601" in text
    for name in ("curves.png", "fronts.png"):
        assert (tmp_path / "multiobjective" / name).stat().st_size > 0


def test_write_report_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="suite"):
        bench.write_report(tmp_path, "other")
    with pytest.raises(ValueError, match="no finished cell"):
        bench.write_report(tmp_path, "constrained")


def test_compare_runs_pairs_seeds_and_corrects_over_problems(capsys, tmp_path):
    hv = problem("zdt1").max_hv

    def rec(name, seed, final, wall=1.0):
        return {"problem": name, "contender": "bayesopt", "seed": seed, "status": "ok",
                "final": final, "wall_s": wall}  # fmt: skip

    # zdt1: the new runs are better on every one of 8 seeds; dtlz2-m2: no change.
    old = [rec("zdt1", s, hv - 1.0, wall=10.0) for s in range(8)]
    new = [rec("zdt1", s, hv - 0.01 * (s + 1), wall=2.0) for s in range(8)]
    top = problem("dtlz2-m2").max_hv
    old += [rec("dtlz2-m2", s, top - 0.1) for s in range(8)]
    new += [rec("dtlz2-m2", s, top - 0.1) for s in range(8)]
    new.append(rec("dtlz2-m3", 0, 0.5))  # no old run: left out
    lines = bench.compare_runs(old, new, "multiobjective", "bayesopt")
    rows = {line.split("|")[1].strip(): line for line in lines[2:]}
    assert set(rows) == {"`zdt1`", "`dtlz2-m2`"}
    cells = [c.strip() for c in rows["`zdt1`"].split("|")[1:-1]]
    assert cells[1] == "8" and float(cells[2]) == pytest.approx(0.0)
    assert cells[4].startswith("W (0.008") and cells[4].endswith("Holm W)")
    assert cells[5:] == ["10.0", "2.0"]
    assert "T (" in rows["`dtlz2-m2`"]
    # The command line prints the same table from two files.
    for name, recs in (("old", old), ("new", new)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    argv = ["compare", "--suite", "multiobjective", "--old", str(tmp_path / "old.jsonl"),
            "--new", str(tmp_path / "new.jsonl")]  # fmt: skip
    assert bench.main(argv) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines
    # A variant's runs against the default's: the same table.
    variant = [{**r, "contender": "bayesopt+x"} for r in new]
    assert bench.compare_runs(old, variant, "multiobjective", "bayesopt", "bayesopt+x") == lines


def test_compare_runs_counts_a_run_without_a_feasible_point_as_the_worst():
    def rec(seed, final):
        return {"problem": "spring", "contender": "bayesopt", "seed": seed, "status": "ok",
                "final": final, "wall_s": 1.0}  # fmt: skip

    optimum = problem("spring").optimum
    old = [rec(s, None if s else optimum + 0.1) for s in range(10)]  # feasible once
    new = [rec(s, optimum + 0.001 * (s + 1)) for s in range(10)]
    (line,) = bench.compare_runs(old, new, "constrained", "bayesopt")[2:]
    cells = [c.strip() for c in line.split("|")[1:-1]]
    assert cells[2] == "inf" and cells[4].startswith("W (0.002")
