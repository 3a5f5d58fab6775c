"""Tests of the benchmark suite: traces, statistics, problems, the runner and the report."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cli, contenders, presets, problems, report, runner, stats, store
from benchmarks.cell import Cell, budget_trace, log10_regret, run_cell
from benchmarks.contenders import Contender
from benchmarks.results_table import build, reference
from benchmarks.stats import Outcome, Reference, compare, normalised_score


# Traces -----------------------------------------------------------------------------------
def test_budget_trace_is_best_so_far() -> None:
    assert budget_trace([5.0, 4.0, 6.0, 1.0], 4) == [5.0, 4.0, 4.0, 1.0]


def test_budget_trace_random_2x_takes_best_of_first_2k() -> None:
    values = [5.0, 4.0, 6.0, 1.0, 3.0, 0.5]
    assert budget_trace(values, 3, factor=2) == [4.0, 1.0, 0.5]


def test_budget_trace_skips_failures() -> None:
    trace = budget_trace([math.nan, math.nan, 2.0, math.nan], 4)
    assert math.isnan(trace[0]) and math.isnan(trace[1])
    assert trace[2:] == [2.0, 2.0]


def test_log10_regret_is_floored() -> None:
    assert log10_regret(1.0 + 1e-3, 1.0) == pytest.approx(-3.0)
    assert log10_regret(1.0, 1.0) == -12.0
    assert log10_regret(0.5, 1.0) == -12.0  # below the stated optimum: numerical slack
    assert math.isnan(log10_regret(math.nan, 1.0))


def test_random_2x_cell_extends_the_random_stream() -> None:
    rec2 = run_cell(Cell("branin", "random-2x", 3, 6))
    rec1 = run_cell(Cell("branin", "random", 3, 6))
    assert rec2["status"] == rec1["status"] == "ok"
    assert rec2["n_evals"] == 12 and len(rec2["trace"]) == 6
    assert rec2["values"][:6] == rec1["values"]
    for k in range(1, 7):
        assert rec2["trace"][k - 1] == min(rec2["values"][: 2 * k])
    assert all(a <= b for a, b in zip(rec2["trace"], rec1["trace"], strict=True))


# Statistics -------------------------------------------------------------------------------
def test_wilcoxon_win_loss_tie_on_known_inputs() -> None:
    base = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    better = [b - 1.0 - 0.1 * i for i, b in enumerate(base)]
    assert compare(better, base).outcome is Outcome.WIN
    assert compare(base, better).outcome is Outcome.LOSS
    assert compare(better, base).p_value == pytest.approx(2 / 2**8)
    mixed = [b + (1.0 if i % 2 else -1.0) for i, b in enumerate(base)]
    assert compare(mixed, base).outcome is Outcome.TIE


def test_wilcoxon_all_ties_and_zero_differences_are_ties() -> None:
    same = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    result = compare(same, same)
    assert result.outcome is Outcome.TIE and result.p_value == 1.0
    # Floored regrets: equal pairs carry no information and are dropped.
    floor = [-12.0] * 6
    assert compare(floor, floor).outcome is Outcome.TIE
    one_off = [-12.0] * 5 + [-11.0]
    assert compare(one_off, floor).outcome is Outcome.TIE


def test_wilcoxon_cannot_be_significant_with_five_seeds() -> None:
    assert compare([0.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]).outcome is Outcome.TIE
    assert stats.min_attainable_p(5) > 0.05 > stats.min_attainable_p(6)


def test_wilcoxon_drops_nan_pairs_and_checks_lengths() -> None:
    a = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.nan]
    b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    result = compare(a, b)
    assert result.outcome is Outcome.WIN and result.n_pairs == 6
    with pytest.raises(ValueError):
        compare([1.0], [1.0, 2.0])


def test_normalised_score_on_known_inputs() -> None:
    ref = Reference(best=0.1, median_random=0.5, n_random=10)
    assert normalised_score(0.1, ref) == pytest.approx(1.0)
    assert normalised_score(0.5, ref) == pytest.approx(0.0)
    assert normalised_score(0.3, ref) == pytest.approx(0.5)
    assert normalised_score(0.9, ref) == pytest.approx(-1.0)
    assert math.isnan(normalised_score(math.nan, ref))
    assert math.isnan(normalised_score(0.3, Reference(0.5, 0.5, 10)))


def test_reference_pools_random_streams_without_double_counting() -> None:
    records = [
        {"contender": "random", "seed": 0, "values": [3.0, 5.0]},
        {"contender": "random-2x", "seed": 0, "values": [3.0, 5.0, 7.0, 9.0]},
        {"contender": "random", "seed": 1, "values": [1.0, None]},
        {"contender": "bayesopt", "seed": 0, "values": [0.5, 8.0]},
    ]
    ref = reference(records)
    assert ref == Reference(best=0.5, median_random=5.0, n_random=5)


def test_mean_ranks_on_known_inputs() -> None:
    losses = {
        "p1": {"a": [0.0, 0.0], "b": [1.0, 1.0], "c": [2.0, 2.0]},
        "p2": {"a": [1.0, 1.0], "b": [1.0, 1.0], "c": [0.0, math.nan]},
    }
    ranks = stats.mean_ranks(losses)
    # p1 ranks a, b, c = 1, 2, 3; p2 keeps seed 0 only (c is NaN on seed 1): 2.5, 2.5, 1.
    assert ranks == {"a": pytest.approx(1.75), "b": pytest.approx(2.25), "c": pytest.approx(2.0)}


# Problems ---------------------------------------------------------------------------------
def test_problem_registry_is_consistent() -> None:
    reg = problems.registry()
    assert len([p for p in reg.values() if p.family == "ml"]) >= 8
    assert len([p for p in reg.values() if p.family == "mixed"]) >= 2
    assert len([p for p in reg.values() if p.family == "noisy"]) >= 2
    hard = set(presets.HARD_PROBLEMS)
    for p in reg.values():
        assert p.budget <= (200 if p.name in hard else 100), p.name
        assert (p.optimum is None) == (p.family == "ml")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mixed-ackley", {"x0": 0.0, "x1": 0.0, "x2": 0.0, "k0": 0, "k1": 0, "k2": 0}),
        ("mixed-levy", {"x0": 1.0, "x1": 1.0, "k0": 1, "k1": 1, "m": 2}),
    ],
)
def test_mixed_problems_reach_their_optimum(name: str, params: dict) -> None:
    problem = problems.get(name)
    assert problem.fn({**params, "variant": "a"}) == pytest.approx(problem.optimum, abs=1e-9)
    values = [problem.fn(x) for x in problem.space.sample(256, seed=0, sobol=False)]
    assert min(values) > problem.optimum


def test_synthetic_optimum_is_a_lower_bound() -> None:
    for name in problems.names("synthetic"):
        problem = problems.get(name)
        values = [problem.fn(x) for x in problem.space.sample(64, seed=1, sobol=False)]
        assert min(values) >= problem.optimum - 1e-6, name


def test_noise_is_seeded_per_run_and_shared_by_contenders() -> None:
    problem = problems.get("branin-noisy")
    x = problem.space.sample(1, seed=0)[0]
    a, b, c = problem.evaluator(0)(x), problem.evaluator(0)(x), problem.evaluator(1)(x)
    assert a == b and a.observed != c.observed
    assert a.true == c.true == problem.fn(x)
    assert problems.get("branin").evaluator(0)(x).observed == problem.fn(x)


def test_tuning_tasks_are_deterministic_and_finite() -> None:
    pytest.importorskip("sklearn")
    for name in ["svr-diabetes", "enet-diabetes", "logreg-breast", "knn-digits"]:
        problem = problems.get(name)
        x = problem.space.sample(1, seed=0)[0]
        first, second = problem.fn(x), problem.fn(x)
        assert math.isfinite(first) and first == second, name


# Contenders and presets ---------------------------------------------------------------------
def test_presets_name_known_problems_and_contenders() -> None:
    for preset in presets.registry().values():
        cells = preset.cells()
        assert cells and len(cells) == len(set(cells))
    quick = presets.get("quick").cells()
    assert {c.seed for c in quick} == set(range(6))
    standard = presets.get("standard").cells()
    default = {c.problem for c in standard if c.contender == "bayesopt"}
    assert default == {c.problem for c in standard}
    families = {problems.get(c.problem).family for c in standard}
    assert families == {"synthetic", "noisy", "mixed", "ml"}


def test_missing_peer_is_skipped_with_one_notice(monkeypatch, capsys) -> None:
    monkeypatch.setattr(
        contenders.importlib.util,
        "find_spec",
        lambda name: None if name in ("optuna", "skopt") else object(),
    )
    assert not contenders.get("optuna-tpe").available()
    assert contenders.get("random").available()
    cells = [Cell("branin", c, 0, 5) for c in ("random", "optuna-tpe", "optuna-gp", "skopt-gp")]
    cells.append(Cell("branin", "optuna-tpe", 1, 5))
    kept = cli.drop_unavailable(cells)
    assert [c.contender for c in kept] == ["random"]
    err = capsys.readouterr().err
    assert err.count("notice: skipping optuna-tpe") == 1
    assert "skopt-gp" in err


@pytest.mark.parametrize("name", ["optuna-tpe", "optuna-gp"])
def test_optuna_adapters_run(name: str) -> None:
    pytest.importorskip("optuna")
    record = run_cell(Cell("mixed-levy", name, 0, 12))
    assert record["status"] == "ok", record["error"]
    assert len(record["trace"]) == 12 and math.isfinite(record["final"])


def test_skopt_adapter_runs_and_imputes_failures() -> None:
    pytest.importorskip("skopt")
    record = run_cell(Cell("mixed-levy", "skopt-gp", 0, 12))
    assert record["status"] == "ok", record["error"]
    session = contenders.get("skopt-gp").make(problems.get("branin").space, 0)
    session.ask()
    session.tell(float("nan"))
    assert session.info() == {"failed_imputed": 1}


def test_plain_values_reach_the_objective() -> None:
    pytest.importorskip("skopt")
    space = problems.get("mixed-levy").space
    session = contenders.get("skopt-gp").make(space, 0)
    params = session.ask()
    assert type(params["k0"]) is int and type(params["x0"]) is float
    assert params["variant"] in space["variant"].choices


# Store, runner, resumption ------------------------------------------------------------------
def test_store_repairs_a_truncated_tail(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    a = {"problem": "p", "contender": "c", "seed": 0, "budget": 1, "x": math.nan}
    store.append(path, a)
    with path.open("a") as fh:
        fh.write('{"problem": "p", "contender": "c", "se')  # killed mid-write
    assert store.read(path) == ([{**a, "x": None}], 1)
    store.append(path, {**a, "seed": 1})
    records, bad = store.read(path)
    assert bad == 0 and [r["seed"] for r in records] == [0, 1]


def _run(tmp: Path, *extra: str) -> int:
    return cli.main(
        [
            "--results",
            str(tmp),
            "run",
            "--suite",
            "tiny",
            "--problems",
            "branin,svr-diabetes",
            "--contenders",
            "random,random-2x,sobol",
            "--seeds",
            "0-1",
            "--budget",
            "6",
            "--workers",
            "0",
            "--no-progress",
            *extra,
        ]
    )


def test_resume_skips_finished_cells_and_tolerates_a_truncated_line(tmp_path: Path) -> None:
    path = tmp_path / "tiny" / "runs.jsonl"
    assert _run(tmp_path) == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 12
    _run(tmp_path)
    assert len(path.read_text().splitlines()) == 12  # nothing rerun
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # killed mid-write
    _run(tmp_path)
    records, bad = store.read(path)
    assert bad == 0 and len(records) == 12
    assert len(store.latest(records)) == 12


def test_max_cells_runs_a_chunk(tmp_path: Path) -> None:
    _run(tmp_path, "--max-cells", "5")
    assert len((tmp_path / "tiny" / "runs.jsonl").read_text().splitlines()) == 5
    _run(tmp_path, "--max-cells", "5")
    assert len((tmp_path / "tiny" / "runs.jsonl").read_text().splitlines()) == 10


def test_crashing_contender_records_the_error_and_the_run_goes_on(
    tmp_path: Path, monkeypatch
) -> None:
    def broken(space, seed):
        raise RuntimeError("boom")

    bad = Contender("broken", broken, description="raises")
    monkeypatch.setattr(contenders, "_CONTENDERS", (*contenders._CONTENDERS, bad))
    cells = [Cell("branin", "broken", 0, 4), Cell("branin", "random", 0, 4)]
    path = tmp_path / "runs.jsonl"
    summary = runner.run(cells, path, workers=0, progress=False)
    assert summary.ran == 2 and summary.errors == 1
    records = {r["contender"]: r for r in store.read(path)[0]}
    assert records["broken"]["status"] == "error"
    assert "RuntimeError: boom" in records["broken"]["error"]
    assert records["random"]["status"] == "ok"
    # Errors count as finished unless retried.
    assert runner.pending_cells(cells, path)[0] == []
    assert runner.pending_cells(cells, path, retry_errors=True)[0] == [cells[0]]


def test_worker_processes_run_cells(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    cells = [Cell("branin", "random", s, 4) for s in range(3)]
    summary = runner.run(cells, path, workers=2, progress=False)
    assert summary.ran == 3 and summary.errors == 0
    assert {r["seed"] for r in store.read(path)[0]} == {0, 1, 2}


# End to end -------------------------------------------------------------------------------
def test_tiny_seeded_run_end_to_end(tmp_path: Path) -> None:
    args = ["--results", str(tmp_path), "run", "--suite", "e2e", "--no-progress"]
    args += ["--problems", "branin", "--contenders", "bayesopt,random,random-2x"]
    args += ["--seeds", "0-1", "--budget", "8", "--workers", "1"]
    assert cli.main(args) == 0
    records = store.read(tmp_path / "e2e" / "runs.jsonl")[0]
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    bo = [r for r in records if r["contender"] == "bayesopt"]
    assert all(r["info"]["sources"].get("model", 0) == 3 for r in bo)
    assert all(r["versions"]["botorch"] != "absent" for r in records)
    assert cli.main(["--results", str(tmp_path), "report", "--suite", "e2e"]) == 0
    text = (tmp_path / "e2e" / "REPORT.md").read_text()
    for heading in ["## Answers", "## Where bayesopt loses", "## Mean rank", "## Cost"]:
        assert heading in text
    assert "python -m benchmarks --results" in text and "report --suite e2e" in text
    assert (tmp_path / "e2e" / "curves.png").stat().st_size > 10_000


def _fake(problem: str, contender: str, seed: int, final: float) -> dict:
    budget = problems.get(problem).budget
    return {
        "problem": problem,
        "contender": contender,
        "seed": seed,
        "budget": budget,
        "status": "ok",
        "trace": [final + 1.0] * (budget - 1) + [final],
        "values": [final],
        "n_asks": budget,
        "ask_s": 0.1 * budget,
        "wall_s": 1.0,
    }


def test_report_states_where_bayesopt_loses(tmp_path: Path) -> None:
    records = []
    for seed in range(8):
        records.append(_fake("hartmann6", "bayesopt", seed, -3.0 + 0.01 * seed))
        records.append(_fake("hartmann6", "random", seed, -2.0 + 0.02 * seed))
        records.append(_fake("hartmann6", "random-2x", seed, -3.3 + 0.001 * seed))
    suite = tmp_path / "fake"
    for r in records:
        store.append(suite / "runs.jsonl", r)
    report.write_report(suite, "python -m benchmarks report --suite fake")
    text = (suite / "REPORT.md").read_text()
    assert "**bayesopt loses to random-2x on hartmann6 (tuning)** (p = 0.00781" in text
    assert "significant after Holm over 1 problem;" in text
    assert (
        "Does bayesopt beat random search with the same budget?** On the one problem: better "
        "on 1 after Holm (1 raw)"
    ) in text
    res = build(records)
    assert res.problems["hartmann6"].final["bayesopt"][0] == pytest.approx(np.log10(0.32237))


def test_latency_table_figure_and_cap(tmp_path: Path) -> None:
    from benchmarks import latency

    out = latency.run_latency(
        tmp_path,
        problem_names=["branin"],
        contender_names=["bayesopt"],
        ns=[16, 8],
        repeats=3,
        cap_s=1e-9,  # every ask exceeds it: one repeat at the smallest n, the rest skipped
        loads=["idle"],
        log=lambda _: None,
    )
    rows = json.loads((tmp_path / "latency.json").read_text())["rows"]
    assert [r["n"] for r in rows] == [8, 16]
    assert 0 < rows[0]["median_s"] < 30 and len(rows[0]["seconds"]) == 1
    assert "skipped" in rows[1]
    text = out.read_text()
    assert "| 8 |" in text and "larger n skipped" in text
    assert (tmp_path / "latency.png").exists()


def test_latency_measures_idle_and_loaded_side_by_side(tmp_path: Path) -> None:
    from benchmarks import latency

    out = latency.run_latency(
        tmp_path,
        problem_names=["branin"],
        contender_names=["bayesopt", "botorch-plain"],
        ns=[8],
        repeats=1,
        log=lambda _: None,
    )
    data = json.loads((tmp_path / "latency.json").read_text())
    assert data["meta"]["threads"] is None  # no thread setting: what a user gets
    got = {(r["contender"], r["load"]) for r in data["rows"]}
    assert got == {(c, ld) for c in ("bayesopt", "botorch-plain") for ld in ("idle", "loaded")}
    assert all(r["median_s"] > 0 for r in data["rows"])
    text = out.read_text()
    assert "| n | bayesopt idle | bayesopt loaded | botorch-plain idle |" in text
    assert "Speed-up over the plain BoTorch loop under the same load" in text


def test_cpu_load_starts_and_stops_busy_processes() -> None:
    import multiprocessing

    from benchmarks import latency

    with latency.cpu_load("loaded") as n:
        assert n >= 1 and len(multiprocessing.active_children()) >= n
    assert not multiprocessing.active_children()
    with latency.cpu_load("idle") as n:
        assert n == 0
    with pytest.raises(ValueError, match="load"), latency.cpu_load("busy"):
        pass


def test_loop_latency_times_model_asks(tmp_path: Path) -> None:
    from benchmarks import loop_latency

    out = loop_latency.run_loop(
        tmp_path,
        problem_names=["branin"],
        contender_names=["random"],
        seeds=[0],
        loads=["idle"],
        log=lambda _: None,
    )
    rows = json.loads((tmp_path / "loop.json").read_text())["rows"]
    assert len(rows) == 1 and len(rows[0]["seconds"]) == problems.get("branin").budget
    assert rows[0]["mean_model_s"] == pytest.approx(np.mean(rows[0]["seconds"][20:]))
    assert "| branin (40) |" in out.read_text()


def test_botorch_plain_session_designs_then_models() -> None:
    session = contenders.get("botorch-plain").make(problems.get("mixed-levy").space, 0)
    fn = problems.get("mixed-levy").fn
    space = problems.get("mixed-levy").space
    n_design = 2 * space.dim + 1
    for i in range(n_design + 2):
        params = session.ask()
        space.validate(params)
        session.tell(float("nan") if i == 1 else fn(params))  # a failure is dropped
    assert len(session._y) == n_design + 1


def test_fallbacks_are_counted_per_problem_in_the_report(tmp_path: Path) -> None:
    suite = tmp_path / "fake"
    for seed in range(6):
        rec = _fake("branin", "bayesopt", seed, 0.5)
        if seed == 2:
            rec["info"] = {"fallbacks": {"not_psd": 2}}
        store.append(suite / "runs.jsonl", rec)
        store.append(suite / "runs.jsonl", _fake("branin", "random", seed, 1.0))
    report.write_report(suite, "python -m benchmarks report --suite fake")
    text = (suite / "REPORT.md").read_text()
    assert "reasons: 2× not_psd" in text and "| branin (tuning) | 2 |" in text


def test_ablation_report_counts_the_hartmann6_basin_and_pairs_seeds(tmp_path: Path) -> None:
    from benchmarks import ablation

    suite = tmp_path / "ablation"
    trapped = {"bayesopt": {1, 3, 5}, "bayesopt-v1": {1, 3, 5}, "optuna-gp": {2}}
    for seed in range(20):
        for name, bad in trapped.items():
            final = -3.2032 if seed in bad else -3.3220
            store.append(suite / "runs.jsonl", _fake("hartmann6", name, seed, final))
        if seed < 10:  # a variant on 10 of the default's 20 seeds
            store.append(suite / "runs.jsonl", _fake("hartmann6", "bayesopt-v1+rbf", seed, -3.0))
    ablation.write_report(suite, "python -m benchmarks ablation --no-run")
    text = (suite / "REPORT.md").read_text()
    assert "## Hartmann-6: how often the run ends in the second basin" in text
    assert "| bayesopt | 3/20 | — | 1, 3, 5 |" in text
    assert "| optuna-gp | 1/20 | 0.6 | 2 |" in text
    assert "| bayesopt-v1 | 3/20 | 1 | 1, 3, 5 |" in text
    assert (
        "Seeds 0–9 alone (the anchor cell): bayesopt 3/10, bayesopt-v1 3/10, optuna-gp 1/10."
        in text
    )
    # Medians over the 10 paired seeds: the default's are seeds 0-9 only.
    regret = math.log10(-3.2032 + 3.32237)
    paired = sorted([regret] * 3 + [math.log10(-3.3220 + 3.32237)] * 7)
    expected = (paired[4] + paired[5]) / 2
    assert f"hartmann6: {math.log10(-3.0 + 3.32237):.2f} / {expected:.2f} L" in text


# The hypergradient benchmark's store and report --------------------------------------------
def _hg_record(method: str, seed: int, value: float, horizon: float = 1.0) -> dict:
    """A finished record of ``benchmarks.hypergrad`` (experiment A, logreg, budget 1 s)."""
    chosen = {
        "t": 0.5,
        "value": value,
        "params": {"lr": 0.1, "momentum": 0.5, "weight_decay": 1e-4},
        "beta": None,
        "n_evals": 3,
        "test_errors": [0.1, 0.12],
        "test_losses": [0.3, 0.31],
        "fresh_val_losses": [value + 0.01, value + 0.03],
        "diverged": 0,
    }
    return {
        "experiment": "A",
        "model": "logreg",
        "seed": seed,
        "method": method,
        "horizon": horizon,
        "time_scale": 2.0 if method == "random-2x" else 1.0,
        "evals": [[0.2, value + 0.5], [0.5, value], [0.9, None]],
        "chosen": {str(horizon): chosen},
        "info": {"runs": 2, "stops": ["diverged", "time_budget"]} if method == "hypergrad" else {},
        "commit": "abc1234",
    }


def test_hypergrad_store_cuts_a_torn_last_line(tmp_path: Path) -> None:
    from benchmarks import hypergrad

    path = tmp_path / hypergrad.RUNS
    hypergrad._append(path, [_hg_record("random", 0, 0.2), _hg_record("random-2x", 0, 0.1)])
    with path.open("a") as fh:
        fh.write('{"experiment": "A", "model": "logreg", "se')  # killed mid-write
    assert [r["method"] for r in hypergrad.read_runs(path)] == ["random", "random-2x"]
    assert store.read(path, key=hypergrad.cell_key)[1] == 1
    hypergrad._append(path, [_hg_record("bayesopt", 0, 0.3)])
    records, bad = store.read(path, key=hypergrad.cell_key)
    assert bad == 0 and [r["method"] for r in records] == ["random", "random-2x", "bayesopt"]
    assert store.read(path) == ([], 3)  # the suite's own key does not fit these records


def test_hypergrad_wilcoxon_labels() -> None:
    from benchmarks.hypergrad_report import _wilcoxon

    base = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert _wilcoxon(base[:5], base[:5]) == "n=5: no test"
    assert _wilcoxon(base, base) == "tie"
    assert _wilcoxon([b - 1 for b in base], base) == "lower (p=0.031)"
    assert _wilcoxon(base, [b - 1 - 0.1 * i for i, b in enumerate(base)]) == "higher (p=0.031)"
    mixed = [b + (0.5 if i % 2 else -0.5) for i, b in enumerate(base)]
    assert _wilcoxon(mixed, base) == "tie (p=1.00)"
    assert _wilcoxon([*base, math.nan], [*base, 1.0]) == "tie"  # the NaN pair is dropped


def test_hypergrad_report_on_fake_runs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from benchmarks import hypergrad
    from benchmarks.hypergrad_report import write_report

    records = [_hg_record("hypergrad", 0, 9.0, horizon=0.5)]  # superseded: longer horizon below
    for seed in range(6):
        records += [
            _hg_record("hypergrad", seed, 0.1 + 0.01 * seed),
            _hg_record("bayesopt", seed, 0.2 + 0.01 * seed),
            _hg_record("random", seed, 0.15 + 0.01 * seed),
            _hg_record("random-2x", seed, 0.12 + 0.01 * seed),
        ]
        if seed < 5:
            records.append(_hg_record("sgd-hd", seed, 0.3))
    error = {k: records[1][k] for k in ("experiment", "model", "seed", "horizon")}
    records.append({**error, "method": "bayesopt", "status": "error", "error": "Boom()"})
    path = tmp_path / hypergrad.RUNS
    hypergrad._append(path, records)
    with path.open("a") as fh:
        fh.write('{"experiment": "A", "mo')  # a torn last line is skipped
    memory = [
        {"method": m, "T": t, "stored_bytes": 2**20 * t, "rss_growth_kib": 1024 * t}
        for t in (50, 100)
        for m in ("unroll", "reverse-stored", "reverse")
    ]
    rows = [{**r, "peak_states": None, "seconds": 0.1} for r in memory]
    (tmp_path / "memory.json").write_text(json.dumps(rows))
    text = write_report(tmp_path, "python -m benchmarks hypergrad report").read_text()
    assert "## (A) logreg: 3-D: log lr, momentum, log weight decay" in text
    assert "Seeds run: 0-5 (6); budgets: 1 s." in text and "9.0000" not in text
    assert "| hypergrad | 6 | 3 | 0.1250 [0.1125, 0.1375] | 11.00 ± 1.04 |" in text
    assert "| sgd-hd | 5 | 3 |" in text and "| 0 / 30 |" in text
    assert "* vs bayesopt: validation loss lower (p=0.031); test error tie" in text
    assert "* vs sgd-hd: validation loss n=5: no test; test error n=5: no test" in text
    assert "`hypergrad` over 1 s: 3 meta-steps (median), 6 diverged meta-steps in all" in text
    assert "| 100 | reverse | – | 100.00 | 100.0 | 0.10 |" in text
    assert "* A logreg seed 0 bayesopt: Boom()" in text
    for name in ("REPORT.md", "curves_A_logreg.png", "memory.png"):
        assert (tmp_path / name).exists()


# Probe scripts ------------------------------------------------------------------------------
def test_probes_run_a_checkout_in_a_fresh_process_first_on_the_path(tmp_path: Path, capfd) -> None:
    from benchmarks.scripts._checkout import run_in_checkout

    checkout, scripts = tmp_path / "checkout", tmp_path / "scripts"
    (checkout / "bayesopt").mkdir(parents=True)
    (checkout / "bayesopt" / "__init__.py").write_text("")
    scripts.mkdir()
    script = scripts / "where.py"
    script.write_text("import sys, bayesopt; print(bayesopt.__file__, *sys.argv[1:])\n")
    assert run_in_checkout(checkout, script, ["a", "b"]) == 0
    expected = f"{(checkout / 'bayesopt' / '__init__.py').resolve()} a b"
    assert capfd.readouterr().out.strip() == expected
    script.write_text("raise SystemExit(3)\n")
    assert run_in_checkout(checkout, script, []) == 3
    with pytest.raises(SystemExit, match="not a checkout"):
        run_in_checkout(scripts, script, [])


def test_benchmark_code_does_not_patch_sys_path() -> None:
    patch = re.compile(r"sys\.path\.(insert|append|extend)|sys\.path\s*(\+=|=[^=])")
    root = Path(__file__).resolve().parents[1] / "benchmarks"
    assert [p for p in root.rglob("*.py") if patch.search(p.read_text(encoding="utf-8"))] == []


# Batch mode -----------------------------------------------------------------------------------
def test_batch_contenders_are_derived_from_their_base() -> None:
    q4 = contenders.get("bayesopt-q4")
    assert (q4.name, q4.batch, q4.budget_factor, q4.family) == ("bayesopt-q4", 4, 4, "bayesopt")
    assert contenders.get("random-2x-q8").budget_factor == 16
    assert contenders.get("optuna-gp-q4").requires == contenders.get("optuna-gp").requires
    assert "bayesopt-q4" not in contenders.names()  # derived on demand, not registered
    with pytest.raises(KeyError, match="NAME-qK"):
        contenders.get("skopt-gp-q4")
    with pytest.raises(KeyError, match="no batch mode"):
        contenders.batched("cma-es", 4)
    with pytest.raises(ValueError, match="q >= 2"):
        contenders.batched("bayesopt", 1)


def test_batch_cell_counts_rounds_and_extends_the_random_stream() -> None:
    rec = run_cell(Cell("branin", "random-q4", 3, 3))
    assert rec["status"] == "ok" and rec["batch"] == 4
    assert rec["n_evals"] == 12 and rec["n_asks"] == 3 and len(rec["ask_times"]) == 3
    assert len(rec["eval_times"]) == len(rec["params"]) == 12
    assert rec["trace"] == [min(rec["values"][: 4 * k]) for k in (1, 2, 3)]
    wide = run_cell(Cell("branin", "random-2x-q4", 3, 3))
    assert wide["n_evals"] == 24 and wide["values"][:12] == rec["values"]
    assert wide["trace"] == [min(wide["values"][: 8 * k]) for k in (1, 2, 3)]


@pytest.mark.parametrize("name", ["bayesopt-q4", "optuna-gp-q4", "optuna-tpe-q4"])
def test_batch_contenders_ask_whole_rounds(name: str) -> None:
    if not contenders.get(name).available():
        pytest.skip(f"{name} is not installed")
    rec = run_cell(Cell("mixed-levy", name, 0, 4))  # past Optuna's 10 startup trials
    assert rec["status"] == "ok", rec["error"]
    assert rec["n_evals"] == 16 and rec["n_asks"] == 4 and len(rec["trace"]) == 4
    rounds = [tuple(sorted(p.items())) for p in rec["params"][12:]]
    assert len(set(rounds)) == 4  # a round's points differ from each other


# Records ----------------------------------------------------------------------------------
def test_records_keep_params_times_and_the_recommended_point() -> None:
    rec = run_cell(Cell("branin-noisy", "random", 1, 10))
    problem = problems.get("branin-noisy")
    assert [problem.fn(x) for x in rec["params"]] == rec["values"]
    assert len(rec["ask_times"]) == len(rec["eval_times"]) == 10
    assert rec["ask_s"] == pytest.approx(sum(rec["ask_times"]))
    i = rec["recommended_index"]
    assert rec["observed"][i] == min(rec["observed"])  # random recommends its best observed
    assert rec["recommended"] == rec["values"][i]
    assert rec["recommended_log10_regret"] == log10_regret(rec["recommended"], problem.optimum)


def test_bayesopt_recommendation_is_one_of_its_evaluations() -> None:
    rec = run_cell(Cell("branin-noisy", "bayesopt", 0, 12))
    assert rec["status"] == "ok", rec["error"]
    i = rec["recommended_index"]
    assert 0 <= i < 12 and rec["recommended"] == rec["values"][i]


def test_recommended_point_rules() -> None:
    from benchmarks.cell import _recommended

    problem = problems.get("branin")

    class Pick:
        def __init__(self, choice):
            self.choice = choice

        def recommend(self):
            return self.choice

    values, observed = [5.0, 1.0, 3.0], [5.5, math.nan, 2.0]
    assert _recommended(object(), problem, values, observed) == (3.0, 2)  # best observed
    assert _recommended(Pick(0), problem, values, observed) == (5.0, 0)
    assert _recommended(Pick(None), problem, values, observed) == (3.0, 2)
    point = {"x0": math.pi, "x1": 2.275}
    value, index = _recommended(Pick(point), problem, values, observed)
    assert index is None and value == pytest.approx(problem.optimum, abs=1e-5)
    assert math.isnan(_recommended(object(), problem, [math.nan], [math.nan])[0])


def test_budgeted_contenders_are_told_the_run_budget(monkeypatch) -> None:
    seen = {}

    def make(space, seed, budget):
        seen["budget"] = budget
        return contenders.get("random").make(space, seed)

    planned = Contender("planned", make, budgeted=True, budget_factor=2)
    monkeypatch.setattr(contenders, "_CONTENDERS", (*contenders._CONTENDERS, planned))
    assert run_cell(Cell("branin", "planned", 0, 3))["status"] == "ok"
    assert seen == {"budget": 6}


# Hard problems ----------------------------------------------------------------------------
def test_layerwise_mlp_task_is_deterministic_and_leaves_torch_alone() -> None:
    import torch

    problem = problems.get("mlp4-digits")
    assert problem.dim == 22 and problem.budget == 200 and problem.optimum is None
    x = problem.space.sample(1, seed=4)[0]
    state = torch.random.get_rng_state()
    first = problem.fn(x)
    assert torch.equal(state, torch.random.get_rng_state())
    assert first == problem.fn(x) and 0.0 < first < 10.0
    good = dict(x) | {f"lr{i}": 0.05 for i in range(4)} | {"lr_out": 0.05, "momentum": 0.9}
    good |= {f"width{i}": 64 for i in range(4)} | {f"dropout{i}": 0.0 for i in range(4)}
    good |= {"init_scale": 1.0, "activation": "relu", "batch_size": 32}
    assert problem.fn(good) < 1.0  # a sensible configuration learns (chance: ln 10 = 2.3)


def test_batch_and_hard_presets() -> None:
    batch = presets.get("batch").cells()
    assert {c.budget for c in batch} == {presets.BATCH_ROUNDS}
    assert {contenders.get(c.contender).batch for c in batch} == set(presets.BATCH_Q)
    assert {c.problem for c in batch} == set(presets.BATCH_PROBLEMS)
    bases = {c.contender.rsplit("-q", 1)[0] for c in batch}
    assert bases == set(presets.BATCH_CONTENDERS)
    assert sum(problems.get(p).family == "ml" for p in presets.BATCH_PROBLEMS) == 1
    hard = presets.get("hard").cells()
    assert all(problems.get(c.problem).dim >= 10 and c.budget >= 200 for c in hard)
    need = {"bayesopt", "random", "random-2x", "optuna-gp", "optuna-tpe", "cma-es"}
    assert need <= {c.contender for c in hard}
    assert {"rosenbrock10", "mlp4-digits"} <= set(presets.REPORT_SET)
    assert {"ackley10", "ackley20", "levy12"} <= set(presets.TUNING_SET)
    assert {c.problem for c in hard} == set(presets.HARD_PROBLEMS)


# The runner's pool ------------------------------------------------------------------------
_POOL_SCRIPT = """
import time
from benchmarks import runner
if __name__ == "__main__":
    pool = runner.make_pool(1, None)
    pid = pool.submit(__import__("os").getpid).result()
    print(pid, flush=True)
    pool.submit(time.sleep, 120)
    time.sleep(120)
"""


@pytest.mark.slow  # a spawned worker process: a few seconds
@pytest.mark.skipif(sys.platform != "linux", reason="workers watch their parent on POSIX")
def test_runner_workers_end_when_the_runner_is_killed() -> None:
    import os
    import signal
    import subprocess
    import time

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    runner_process = subprocess.Popen(
        [sys.executable, "-c", _POOL_SCRIPT], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        worker = int(runner_process.stdout.readline())
        os.kill(worker, 0)  # alive
        runner_process.send_signal(signal.SIGKILL)
        runner_process.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                stat = Path(f"/proc/{worker}/stat").read_text()
            except FileNotFoundError:
                break
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived the runner")
    finally:
        runner_process.kill()
        runner_process.wait()


@pytest.mark.parametrize("name", sorted(cli.DELEGATED))
def test_delegated_subcommands_hand_their_arguments_to_the_experiment(name, monkeypatch) -> None:
    import importlib

    module = importlib.import_module(cli.DELEGATED[name][0])
    seen: list[list[str]] = []
    monkeypatch.setattr(module, "main", lambda argv: seen.append(list(argv)) or 0)
    assert cli.main([name, "report", "--seeds", "0-1"]) == 0
    assert seen == [["report", "--seeds", "0-1"]]
    assert name in cli._parser().format_help()
