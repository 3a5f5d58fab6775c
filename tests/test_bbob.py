"""The COCO BBOB suite: problems, instances, ECDFs of runtimes, the new peers, the report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import bayesopt as bo
from benchmarks import contenders, presets, problems, store
from benchmarks.cell import Cell, run_cell
from benchmarks.ecdf import TARGETS, ecdf, ecdf_by_contender, runtimes
from benchmarks.problems.bbob import bbob_fopt, instance_of, parse_name


# ECDF of runtimes (no cocoex needed) --------------------------------------------------------
def test_targets_are_cocos_grid() -> None:
    assert len(TARGETS) == 51
    assert TARGETS[0] == pytest.approx(100.0) and TARGETS[-1] == pytest.approx(1e-8)
    assert TARGETS[5] == pytest.approx(10.0)


def test_runtimes_and_ecdf_on_hand_made_traces() -> None:
    a = [10.0, 1.0, 0.01]  # reaches 1 at point 2, 0.1 at point 3
    b = [math.nan, 200.0, 0.5]  # reaches 1 at point 3, never 0.1
    assert runtimes(a, [1.0, 0.1]) == [2.0, 3.0]
    assert runtimes(b, [1.0, 0.1]) == [3.0, math.inf]
    assert runtimes([None, 0.0], [1e-8]) == [2.0]
    assert ecdf([a, b], 3, [1.0, 0.1]).tolist() == [0.0, 0.25, 0.75]
    assert ecdf([], 2, [1.0]).tolist() == [0.0, 0.0]


def test_ecdf_aggregates_per_dimension_and_group() -> None:
    def record(problem: str, contender: str, trace: list[float]) -> dict:
        return {"problem": problem, "contender": contender, "status": "ok",
                "budget": len(trace), "trace": trace}  # fmt: skip

    function_of = {"bbob-f01-d2": (1, 2), "bbob-f15-d2": (15, 2), "bbob-f01-d5": (1, 5)}
    records = [
        record("bbob-f01-d2", "x", [1.0, 1e-9]),  # both targets, at points 1 and 2
        record("bbob-f15-d2", "x", [50.0, 50.0]),  # none
        record("bbob-f01-d5", "x", [0.0, 0.0]),  # another dimension: ignored
        {**record("bbob-f01-d2", "y", [0.0, 0.0]), "status": "error"},  # not finished
    ]
    curves = ecdf_by_contender(records, 2, [1, 15], function_of, targets=[1.0, 1e-8])
    assert list(curves) == ["x"]
    assert curves["x"].y.tolist() == [0.25, 0.5]
    assert curves["x"].x.tolist() == [0.5, 1.0]
    assert (curves["x"].n_runs, curves["x"].n_functions) == (2, 2)
    only_f1 = ecdf_by_contender(records, 2, [1], function_of, targets=[1.0, 1e-8])
    assert only_f1["x"].final == 1.0


# Registry, instances and sets ---------------------------------------------------------------
def test_instances_map_as_documented() -> None:
    assert instance_of(0) == 1 and instance_of(4) == 5 and instance_of(100) == 101
    with pytest.raises(ValueError):
        instance_of(-1)
    assert parse_name("bbob-f07-d10") == (7, 10)
    p = problems.get("bbob-f07-d10")
    assert (p.family, p.budget, p.dim, p.optimum) == ("bbob", 200, 10, 0.0)


def test_bbob_problems_stay_out_of_the_other_sets() -> None:
    bbob = set(problems.names("bbob"))
    assert len(bbob) == 96 and not bbob & set(problems.names())
    assert not bbob & (set(presets.REPORT_SET) | set(presets.TUNING_SET))
    assert not bbob & {c.problem for c in presets.get("full").cells()}
    cells = presets.get("bbob").cells()
    assert {c.problem for c in cells} == set(presets.BBOB_REPORT_SET)
    # Report instances only (1-15 at d = 2, 1-10 at d = 5 and 10, 1-3 at d = 20),
    # never tuning ones (101+).
    dims = (2, 5, 10, 20)
    seeds = {d: {c.seed for c in cells if c.problem.endswith(f"-d{d}")} for d in dims}
    assert seeds == {2: set(range(15)), 5: set(range(10)), 10: set(range(10)), 20: set(range(3))}
    assert {c.contender for c in cells} == set(presets.BBOB_CONTENDERS)
    at20 = {c.contender for c in cells if c.problem.endswith("-d20")}
    assert at20 == set(presets.BBOB_CONTENDERS) - {"optuna-gp"}


def test_fopt_is_cocos_optimal_value(tmp_path, monkeypatch) -> None:
    cocoex = pytest.importorskip("cocoex")
    monkeypatch.chdir(tmp_path)  # _best_parameter("print") writes its file here
    suite = cocoex.Suite("bbob", "instances:1,2,101", "dimensions:2,5")
    for problem in suite:
        if problem.id_function not in (1, 4, 7, 18, 20, 24):
            continue
        problem._best_parameter("print")
        x_opt = np.loadtxt(tmp_path / "._bbob_problem_best_parameter.txt")
        expected = bbob_fopt(problem.id_function, problem.id_instance)
        assert problem(x_opt) == pytest.approx(expected, abs=1e-9), problem.id


def test_seed_picks_the_instance_and_the_record_stores_the_precision() -> None:
    cocoex = pytest.importorskip("cocoex")
    problem = problems.get("bbob-f03-d2")
    x = {"x0": 1.5, "x1": -2.0}
    suite = cocoex.Suite("bbob", "instances:1,3", "dimensions:2")
    for seed, instance in ((0, 1), (2, 3)):
        coco = suite.get_problem_by_function_dimension_instance(3, 2, instance)
        value = problem.evaluator(seed)(x)
        assert value.observed == coco(np.array([1.5, -2.0]))  # the optimiser sees f
        assert value.true == pytest.approx(value.observed - bbob_fopt(3, instance))
    assert problem.fn(x) == problem.evaluator(0)(x).true


def test_tiny_bbob_cell_end_to_end() -> None:
    pytest.importorskip("cocoex")
    record = run_cell(Cell("bbob-f01-d2", "random", 0, 6))
    assert record["status"] == "ok" and record["family"] == "bbob"
    assert len(record["values"]) == 6 and min(record["values"]) > 0
    assert record["trace"][-1] == min(record["values"])
    assert record["log10_regret"] == pytest.approx(math.log10(min(record["values"])))


# The new peers ------------------------------------------------------------------------------
def test_cma_es_runs_restarts_and_refuses_categoricals() -> None:
    pytest.importorskip("cmaes")
    space = bo.Space({"a": bo.Real(-5.0, 5.0), "b": bo.Integer(1, 100, log=True)})
    session = contenders.get("cma-es").make(space, 0)
    population = session.info()["population"]
    assert population == 6  # 4 + floor(3 ln 2)
    for i in range(2 * population):
        params = session.ask()
        assert -5.0 <= params["a"] <= 5.0 and isinstance(params["b"], int)
        if i == population:
            session._cma.should_stop = lambda: True  # as after convergence
        session.tell(float(params["a"] ** 2))
    assert session.info() == {"restarts": 1, "population": 2 * population}
    with pytest.raises(ValueError, match="categorical"):
        contenders.get("cma-es").make(bo.Space({"c": bo.Categorical(["u", "v"])}), 0)


def test_hyperopt_tpe_is_seeded_and_handles_every_type() -> None:
    pytest.importorskip("hyperopt")
    space = bo.Space(
        {
            "a": bo.Real(1e-3, 1.0, log=True),
            "k": bo.Integer(1, 10),
            "c": bo.Categorical(["u", "v", "w"]),
        }
    )

    def run(seed: int) -> list[dict]:
        session = contenders.get("hyperopt-tpe").make(space, seed)
        out = []
        for i in range(5):
            out.append(session.ask())
            session.tell(math.nan if i == 2 else float(i))
        return out

    first = run(3)
    assert first == run(3)
    for params in first:
        assert 1e-3 <= params["a"] <= 1.0 and isinstance(params["k"], int)
        assert params["c"] in ("u", "v", "w")


# The report ---------------------------------------------------------------------------------
def test_bbob_report_from_a_tiny_suite(tmp_path) -> None:
    pytest.importorskip("cocoex")
    pytest.importorskip("matplotlib")
    from benchmarks.bbob_report import write_bbob_report

    suite = tmp_path / "bbob"
    for contender in ("bayesopt", "random", "random-2x"):
        for f in (1, 2, 3):
            for seed in (0, 1):
                if contender == "bayesopt":  # a fake record: no model fits in a unit test
                    record = run_cell(Cell(f"bbob-f{f:02d}-d2", "random", seed, 40))
                    record["contender"] = "bayesopt"
                else:
                    record = run_cell(Cell(f"bbob-f{f:02d}-d2", contender, seed, 40))
                store.append(suite / store.RUNS, record)
    path = write_bbob_report(suite, "python -m benchmarks bbob-report")
    text = path.read_text()
    assert "## d = 2" in text and "Not run" in text and "6/360" in text
    assert "bayesopt vs random-2x" in text and "Friedman" in text
    assert (suite / "ecdf_d2.png").exists()
    assert "a 2-core x86-64 Linux VM" in text
    json.dumps(text)


def _best_precision(f, optimizer: bo.Optimizer, budget: int) -> float:
    best = math.inf
    for _ in range(budget):
        t = optimizer.ask()
        value = f(t.params)
        optimizer.tell(t, value)
        best = min(best, value)
    return best


@pytest.mark.slow
def test_the_default_leaves_a_gallagher_peak_that_pure_exploitation_stays_on(monkeypatch):
    """Gallagher's 101 peaks (f21, d = 2, tuning instance 104, budget 20 d): the default
    ends in the global basin, while maximising the posterior mean (UCB with beta = 0)
    stays on a local peak."""
    pytest.importorskip("cocoex")
    from bayesopt import acquisition
    from benchmarks.problems.bbob import BBOBFunction

    f = BBOBFunction(21, 2, 104, shifted=True)
    space = bo.Space({n: bo.Real(-5.0, 5.0) for n in f.names})
    default = _best_precision(f, bo.Optimizer(space, seed=1), 40)
    monkeypatch.setattr(acquisition, "UCB_BETA", 0.0)
    greedy = _best_precision(f, bo.Optimizer(space, seed=1, acquisition="ucb"), 40)
    assert default < 1e-2
    assert greedy > 1.0


def test_across_function_medians_use_the_instances_both_ran() -> None:
    from benchmarks.bbob_report import _across_functions
    from benchmarks.results_table import ProblemResults, Results

    def problem(name: str, a: dict[int, float], b: dict[int, float]) -> ProblemResults:
        pr = ProblemResults(name, problems.get(name), 40)
        pr.final = {"bayesopt": a, "bayesopt+tr": b}
        return pr

    # ``a`` ran instances 0-9; ``b`` only 0-4, where ``a`` is worse. Over all of ``a``'s
    # instances its median would be lower; over the common ones it is higher.
    names = [f"bbob-f{i:02d}-d2" for i in range(1, 7)]
    a = {s: (1.0 if s < 5 else -5.0) for s in range(10)}
    b = {s: 0.0 for s in range(5)}
    res = Results({n: problem(n, a, b) for n in names}, [], [])
    lower, equal, higher, _ = _across_functions(res, "bayesopt", "bayesopt+tr")
    assert (lower, equal, higher) == (0, 0, 6)
