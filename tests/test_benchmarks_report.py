"""Tests of the benchmark report's statistics (Holm, Friedman, critical difference), the
tuning / report split, the CSV export, the command line and the figure styles."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from benchmarks import cli, contenders, presets, problems, stats, store
from benchmarks.figures import color_of, plot_cd, style_of
from benchmarks.stats import Comparison, Outcome

ROOT = Path(__file__).resolve().parents[1]


# Statistics -------------------------------------------------------------------------------
def test_holm_outcomes_keep_only_what_the_step_down_rejects() -> None:
    comps = {
        "a": Comparison(Outcome.WIN, 0.001, 10),
        "b": Comparison(Outcome.WIN, 0.03, 10),
        "c": Comparison(Outcome.TIE, 0.2, 10),
        "d": Comparison(Outcome.LOSS, 0.04, 10),
    }
    # m = 4: 0.001 <= 0.05/4 is rejected; 0.03 > 0.05/3 stops the procedure.
    assert stats.holm_outcomes(comps) == {
        "a": Outcome.WIN,
        "b": Outcome.TIE,
        "c": Outcome.TIE,
        "d": Outcome.TIE,
    }
    alone = {"x": Comparison(Outcome.LOSS, 0.04, 10)}  # a family of one: Holm = raw
    assert stats.holm_outcomes(alone) == {"x": Outcome.LOSS}
    assert stats.holm_outcomes({}) == {}


def test_friedman_on_a_perfectly_consistent_table() -> None:
    losses = {f"p{i}": {"a": 0.0 + i, "b": 1.0 + i, "c": 2.0 + i} for i in range(4)}
    f = stats.friedman(losses)
    assert f.mean_ranks == {"a": 1.0, "b": 2.0, "c": 3.0}
    # chi2 = 12 N / (k (k + 1)) * sum R_j^2 - 3 N (k + 1) = 4 * 14 - 48 = 8; 2 dof: e^-4.
    assert f.statistic == pytest.approx(8.0)
    assert f.p_value == pytest.approx(math.exp(-4.0))
    assert f.iman_davenport == math.inf and f.iman_davenport_p == 0.0
    assert f.n_problems == 4


def test_friedman_shares_tied_ranks_and_rejects_bad_input() -> None:
    f = stats.friedman({"p": {"a": 1.0, "b": 1.0, "c": 0.0}, "q": {"a": 2.0, "b": 2.0, "c": 2.0}})
    assert f.mean_ranks == {"a": 2.25, "b": 2.25, "c": 1.5}
    tied = stats.friedman({"p": {"a": 1.0, "b": 1.0, "c": 1.0}, "q": {"a": 0, "b": 0, "c": 0}})
    assert tied.p_value == 1.0
    with pytest.raises(ValueError, match="3 contenders"):
        stats.friedman({"p": {"a": 1.0, "b": 2.0}, "q": {"a": 1.0, "b": 2.0}})
    with pytest.raises(ValueError, match="finite"):
        stats.friedman({"p": {"a": 1.0, "b": 2.0, "c": math.nan}, "q": {"a": 1, "b": 2, "c": 3}})


def test_q_alpha_table_matches_the_studentized_range() -> None:
    from scipy.stats import studentized_range

    for k, q in stats.Q_ALPHA_005.items():
        assert q == pytest.approx(studentized_range.ppf(0.95, k, 1e6) / math.sqrt(2), abs=2e-3)


def test_nemenyi_critical_difference() -> None:
    assert stats.nemenyi_cd(7, 6) == pytest.approx(2.949 * math.sqrt(56 / 36))
    assert stats.nemenyi_cd(2, 10) == pytest.approx(1.960 * math.sqrt(6 / 60))
    with pytest.raises(ValueError):
        stats.nemenyi_cd(13, 6)
    with pytest.raises(ValueError):
        stats.nemenyi_cd(5, 6, alpha=0.1)


def test_cd_groups_are_maximal_runs() -> None:
    ranks = {"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2}
    assert stats.cd_groups(ranks, 1.0) == [["a", "b"], ["c", "d"]]
    assert stats.cd_groups(ranks, 2.0) == [["a", "b", "c"], ["b", "c", "d"]]
    assert stats.cd_groups(ranks, 0.1) == []
    assert stats.cd_groups(ranks, 5.0) == [["a", "b", "c", "d"]]


# Tuning set and report set ----------------------------------------------------------------
def test_tuning_and_report_sets_partition_the_problems() -> None:
    tuning, report = set(presets.TUNING_SET), set(presets.REPORT_SET)
    assert not tuning & report and tuning | report == set(problems.names())
    ablation = {c.problem for c in presets.get("ablation").cells()}
    assert tuning == ablation  # the factor study's problems, no more, no fewer
    standard = {c.problem for c in presets.get("standard").cells()}
    assert standard & report == {
        "svr-diabetes",
        "enet-diabetes",
        "gb-diabetes",
        "mlp-breast",
        "knn-digits",
        "logreg-breast",
    }


# The report -------------------------------------------------------------------------------
def _record(problem: str, contender: str, seed: int, final: float) -> dict:
    budget = problems.get(problem).budget
    return {
        "problem": problem,
        "contender": contender,
        "seed": seed,
        "budget": budget,
        "status": "ok",
        "trace": [final + 1.0] * (budget - 1) + [final],
        "values": [final + 1.0, final],
        "n_asks": budget,
        "ask_s": 0.1 * budget,
        "wall_s": 1.0,
    }


def _fake_suite(folder: Path) -> None:
    """bayesopt against random: clear wins on styblinski8 and branin (p = 0.002), a win
    that Holm's correction removes on michalewicz5 (p = 0.037 > 0.05 / 2), a tie on
    mixed-ackley. Each log10-regret difference is set exactly through a regret factor."""
    log_gap = {
        "styblinski8": lambda s: -0.5 - 0.01 * s,
        "branin": lambda s: -0.5 - 0.01 * s,
        "michalewicz5": lambda s: 0.1 * (s + 1) * (1 if s in (2, 3) else -1),
        "mixed-ackley": lambda s: 0.01 * (s + 1) * (1 if s % 2 else -1),
    }
    for problem, gap in log_gap.items():
        opt = problems.get(problem).optimum
        for seed in range(10):
            regret = 1.0 + 0.1 * seed
            for name, factor in [("bayesopt", 10 ** gap(seed)), ("random", 1.0)]:
                rec = _record(problem, name, seed, opt + regret * factor)
                store.append(folder / store.RUNS, rec)
            rec = _record(problem, "random-2x", seed, opt + regret * 0.999)
            store.append(folder / store.RUNS, rec)
    store.append(folder / store.RUNS, _record("branin", "bayesopt-v0", 0, 5.0))


def test_report_shows_raw_and_holm_counts_on_the_report_set(tmp_path: Path) -> None:
    suite = tmp_path / "fake"
    _fake_suite(suite)
    assert cli.main(["report", "--suite", "fake", "--results", str(tmp_path)]) == 0
    text = (suite / "REPORT.md").read_text()
    assert "| bayesopt vs random | 1/2/0 | 2/1/0 | 2/2/0 | 3/1/0 | 4 (1) |" in text
    assert (
        "**Does bayesopt beat random search with the same budget?** On the report set "
        "(3 problems): better on 1 after Holm (2 raw): styblinski8, michalewicz5*"
    ) in text
    assert "| michalewicz5 | +* +* |" in text and "| branin (tuning) | + + |" in text
    assert "tuning set, 1 problem: branin" in text
    # The factor study's variant is left to the ablation report.
    assert "(bayesopt-v0: 1) are left out" in text and "| bayesopt-v0 |" not in text
    assert "## Mean rank, Friedman test and critical difference" in text
    assert "The field: bayesopt, random, random-2x (k = 3)" in text
    assert "- **Mean rank on the report set** (3 problems" in text
    assert (suite / "cd.png").stat().st_size > 5_000


def test_plot_cd_writes_a_figure(tmp_path: Path) -> None:
    ranks = {"bayesopt": 1.5, "optuna-gp": 2.0, "random": 3.5, "sobol": 3.0, "random-2x": 5.0}
    path = plot_cd(ranks, 1.2, tmp_path / "cd.png", title="test")
    assert path.stat().st_size > 5_000


# Export -----------------------------------------------------------------------------------
def test_export_round_trips_every_evaluation(tmp_path: Path) -> None:
    suite = tmp_path / "tiny"
    versions = {"bayesopt": "0.1.0", "torch": "2.13.0"}
    rec = _record("branin-noisy", "bayesopt", 3, 1.5) | {
        "values": [2.5, 1.5, math.nan],
        "observed": [2.7, 1.2, 0.4],
        "params": [{"x0": 0.1, "x1": 2.0}, {"x0": -1.0, "x1": 3.5}, {"x0": 0.0, "x1": 0.0}],
        "versions": versions,
        "meta": {"commit": "abc1234"},
    }
    store.append(suite / store.RUNS, rec)
    store.append(suite / store.RUNS, _record("branin", "random-2x", 0, 0.75))
    out = tmp_path / "out" / "tiny.csv"
    args = ["export", "--suite", "tiny", "--format", "csv", "--out", str(out)]
    assert cli.main([*args, "--results", str(tmp_path)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    noisy = [r for r in rows if r["problem"] == "branin-noisy"]
    assert [int(r["eval_index"]) for r in noisy] == [0, 1, 2]
    assert [r["value"] for r in noisy] == ["2.5", "1.5", ""]  # NaN is stored as null
    assert [float(r["observed"]) for r in noisy] == [2.7, 1.2, 0.4]
    assert {r["suite"] for r in rows} == {"tiny"}
    first = noisy[0]
    assert (first["contender"], first["seed"], first["budget"]) == ("bayesopt", "3", "40")
    assert first["commit"] == "abc1234" and first["version_torch"] == "2.13.0"
    assert first["params"] == '{"x0": 0.1, "x1": 2.0}'
    plain = [r for r in rows if r["problem"] == "branin"]
    assert [float(r["value"]) for r in plain] == [1.75, 0.75]
    assert plain[0]["observed"] == "" and plain[0]["version_torch"] == ""


# Command line -----------------------------------------------------------------------------
def test_help_shows_defaults_everywhere(capsys) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "export" in out and "(default:" in out
    for command, expected in [("report", "(default: standard)"), ("run", "(default: 1)")]:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert expected in text and "--results" in text


def test_results_option_works_before_and_after_the_subcommand(tmp_path: Path) -> None:
    parser = cli._parser()
    assert parser.parse_args(["--results", "a", "report"]).results == Path("a")
    assert parser.parse_args(["report", "--results", "b"]).results == Path("b")
    assert parser.parse_args(["--results", "a", "report", "--results", "b"]).results == Path("b")
    assert parser.parse_args(["report"]).results == store.RESULTS


def test_console_script_is_declared_and_packaged() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["bayesopt-bench"] == "benchmarks.cli:main"
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "bayesopt*" in include and "benchmarks*" in include
    script = Path(sys.executable).parent / "bayesopt-bench"
    if not script.exists():
        pytest.skip("the console script is installed by `pip install -e .`")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("usage: bayesopt-bench")


# Figure styles ----------------------------------------------------------------------------
def test_every_contender_has_a_distinct_style() -> None:
    names = contenders.names()
    styles = [style_of(n) for n in names]
    assert len(set(styles)) == len(names)
    assert all(len(s) == 3 and all(s) for s in styles)
    assert color_of("bayesopt") == style_of("bayesopt")[:2]
