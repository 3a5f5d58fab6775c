"""Tests of the benchmark report's statistics (Holm, Friedman, critical difference), the
tuning / report split, the CSV export, the command line and the figure styles."""

from __future__ import annotations

import argparse
import csv
import json
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


# Saturated tasks --------------------------------------------------------------------------
def test_saturated_rule_uses_seed_noise_and_resolution() -> None:
    noisy = {"a": [1.0, 1.2, 1.1, 1.3], "b": [1.1, 1.0, 1.2, 1.25], "c": [1.05, 1.1, 1.0, 1.2]}
    assert stats.saturated(noisy)
    apart = {"a": [1.0, 1.01, 1.02], "b": [2.0, 2.01, 2.02], "c": [3.0, 3.0, 3.0]}
    assert not stats.saturated(apart)
    # A quantised metric: every seed on the same floor but one contender one step above.
    steps = {"a": [0.045] * 5, "b": [0.045] * 5, "c": [0.045 + 1 / 600] * 5}
    assert stats.saturated(steps)
    assert not stats.saturated({"a": [1.0, 1.0], "b": [1.0, 1.0]})  # too few contenders
    assert not stats.saturated({"a": [1.0], "b": [1.0], "c": [math.nan, 1.0]})


def _tuning_record(problem: str, contender: str, seed: int, best: float, random: bool) -> dict:
    budget = problems.get(problem).budget
    values = [best + 1.0 + 0.01 * seed] * (budget - 1) + [best] if random else [best]
    return _record(problem, contender, seed, best) | {"values": values}


def test_report_marks_saturated_tasks_and_leaves_them_out_of_the_ranks(tmp_path: Path) -> None:
    suite = tmp_path / "sat"
    _fake_suite(suite)
    for seed in range(10):
        for name in ("bayesopt", "random", "random-2x"):
            rec = _tuning_record("knn-digits", name, seed, 0.045, name.startswith("random"))
            store.append(suite / store.RUNS, rec)
    assert cli.main(["report", "--suite", "sat", "--results", str(tmp_path)]) == 0
    text = (suite / "REPORT.md").read_text()
    assert "## Saturated tasks" in text and "| knn-digits | 0 | 0 |" in text
    assert "| knn-digits (saturated) |" in text
    assert "Saturated tasks left out of the ranks: knn-digits" in text
    assert "- **Mean rank on the report set** (3 problems" in text  # knn-digits not counted


# Batch mode -------------------------------------------------------------------------------
def _batch_record(problem: str, contender: str, seed: int, q: int, final: float) -> dict:
    rounds = 4
    rec = _record(problem, f"{contender}-q{q}", seed, final)
    factor = contenders.get(f"{contender}-q{q}").budget_factor
    return rec | {
        "budget": rounds,
        "batch": q,
        "trace": [final + 1.0] * (rounds - 1) + [final],
        "values": [final + 1.0] * (rounds * factor - 1) + [final],
        "n_asks": rounds,
        "ask_s": 0.5 * rounds,
    }


def test_batch_report_compares_contenders_per_round_at_equal_q(tmp_path: Path) -> None:
    suite = tmp_path / "batch"
    opt = problems.get("branin").optimum
    for seed in range(6):
        for q in (4, 8):
            for name, regret in (("bayesopt", 1e-3), ("random", 1.0), ("random-2x", 0.5)):
                rec = _batch_record("branin", name, seed, q, opt + regret * (1 + 0.1 * seed))
                store.append(suite / store.RUNS, rec)
    assert cli.main(["report", "--suite", "batch", "--results", str(tmp_path)]) == 0
    text = (suite / "REPORT.md").read_text()
    assert "**Batch mode.**" in text
    assert "| branin@4x4 (tuning) | 2 | 4 |" in text and "| branin@4x8 (tuning) | 2 | 4 |" in text
    # Six seeds: p = 0.031 is significant raw but not after Holm over 2 problems (0.025).
    assert "| bayesopt vs random | – | – | 0/2/0 | 2/0/0 | 2 (2) |" in text
    assert "| bayesopt-q4 |" in text and "| random-2x-q8 |" in text  # cost rows per batch
    assert (suite / "curves.png").stat().st_size > 10_000


# Recommended points -----------------------------------------------------------------------
def test_report_shows_the_recommended_point_on_noisy_problems(tmp_path: Path) -> None:
    suite = tmp_path / "noisy"
    opt = problems.get("branin-noisy").optimum
    for seed in range(6):
        for name, best, recommended in (("bayesopt", 1e-2, 2e-2), ("random", 1.0, 3.0)):
            rec = _record("branin-noisy", name, seed, opt + best * (1 + seed))
            rec["recommended"] = opt + recommended * (1 + seed)
            store.append(suite / store.RUNS, rec)
    assert cli.main(["report", "--suite", "noisy", "--results", str(tmp_path)]) == 0
    text = (suite / "REPORT.md").read_text()
    assert "## Recommended point on noisy problems" in text
    row = next(
        line for line in text.splitlines() if line.startswith("| branin-noisy (tuning) | random |")
    )
    assert row.endswith("| + (0.031) |")  # bayesopt's recommendation wins on all 6 seeds


# Manifest ---------------------------------------------------------------------------------
def test_report_manifest_names_commit_machine_packages_and_commands(tmp_path: Path) -> None:
    suite = tmp_path / "fake"
    _fake_suite(suite)
    host = {"cpu": "Test CPU 3000", "cores": 2, "os": "Linux 6.1", "machine": "x86_64"}
    meta = {"commit": "abc1234", "tree_dirty": True, "host": host, "threads": 1}
    rec = _record("branin", "sobol", 0, 2.0) | {"meta": meta, "versions": {"scipy": "1.17.1"}}
    store.append(suite / store.RUNS, rec)
    (suite / "commands.log").write_text(
        "2026-11-30 10:00:00\tpython -m benchmarks run --preset x\t"
        "ran 3 cells (0 errors) in 120 s\n"
    )
    assert cli.main(["report", "--suite", "fake", "--results", str(tmp_path)]) == 0
    text = (suite / "REPORT.md").read_text()
    manifest = text[text.index("## Manifest") :]
    assert "`abc1234`" in manifest and "uncommitted changes" in manifest
    assert "2 logical cores, Test CPU 3000 (x86_64), Linux 6.1" in manifest
    assert "run commands of `commands.log` took 0.03 h" in manifest
    assert "python -m benchmarks run --preset x" in manifest and "scipy 1.17.1" in manifest


def test_host_is_recorded_in_run_meta() -> None:
    from benchmarks import runner

    meta = runner.run_meta("x")
    assert meta["suite"] == "x" and meta["host"]["cores"] >= 1 and meta["host"]["cpu"]


# Export of every evaluation ------------------------------------------------------------------
def _full_record() -> dict:
    return _record("branin-noisy", "bayesopt-q4", 3, 1.5) | {
        "budget": 1,
        "batch": 4,
        "values": [2.5, 1.5, math.nan, 3.0],
        "observed": [2.7, 1.2, 0.4, 3.1],
        "params": [{"x0": 0.1 * i, "x1": 2.0} for i in range(4)],
        "ask_times": [0.25],
        "eval_times": [0.01, 0.02, 0.03, 0.04],
        "recommended_index": 1,
        "recommended": 1.5,
        "versions": {"torch": "2.13.0"},
        "meta": {"commit": "abc1234"},
    }


def test_export_writes_times_rounds_and_the_recommended_flag(tmp_path: Path) -> None:
    suite = tmp_path / "t"
    rec = _full_record()
    store.append(suite / store.RUNS, rec)
    out = tmp_path / "t.csv"
    assert cli.main(["export", "--suite", "t", "--out", str(out), "--results", str(tmp_path)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["round"] for r in rows] == ["0"] * 4 and {r["batch"] for r in rows} == {"4"}
    assert [float(r["ask_s"]) for r in rows] == [0.25] * 4
    assert [float(r["eval_s"]) for r in rows] == rec["eval_times"]
    assert [r["recommended"] for r in rows] == ["0", "1", "0", "0"]
    assert [json.loads(r["params"]) for r in rows] == rec["params"]


def test_export_parquet_round_trips(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    suite = tmp_path / "t"
    rec = _full_record()
    store.append(suite / store.RUNS, rec)
    store.append(suite / store.RUNS, _record("branin", "random", 0, 0.75))
    out = tmp_path / "t.parquet"
    args = ["export", "--suite", "t", "--format", "parquet", "--out", str(out)]
    assert cli.main([*args, "--results", str(tmp_path)]) == 0
    table = pq.read_table(out).to_pylist()
    noisy = [r for r in table if r["problem"] == "branin-noisy"]
    assert [r["value"] for r in noisy] == [2.5, 1.5, None, 3.0]
    assert [r["observed"] for r in noisy] == rec["observed"]
    assert [json.loads(r["params"]) for r in noisy] == rec["params"]
    assert [r["eval_s"] for r in noisy] == rec["eval_times"]
    assert noisy[0]["seed"] == 3 and noisy[0]["version_torch"] == "2.13.0"
    plain = [r for r in table if r["problem"] == "branin"]
    assert [r["value"] for r in plain] == [1.75, 0.75] and plain[0]["round"] is None
    with pytest.raises(SystemExit, match="--out"):
        cli.main(["export", "--suite", "t", "--format", "parquet", "--results", str(tmp_path)])


# Command line, everywhere -----------------------------------------------------------------
def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_with_a_default_shows_it_in_help() -> None:
    for name, sub in _subcommands().items():
        text = "".join(sub.format_help().split())  # wrapping may break lines at hyphens
        assert "--results" in text, name
        for action in sub._actions:
            if not action.option_strings or action.help in (None, argparse.SUPPRESS):
                continue
            if action.default in (None, argparse.SUPPRESS) or action.dest == "help":
                continue
            default = action.default
            if isinstance(default, list):  # shown as the option takes it: 0,1,2
                default = ",".join(map(str, default))
            assert f"(default:{default})".replace(" ", "") in text, (name, action.dest)


def test_results_option_works_after_every_subcommand(tmp_path: Path) -> None:
    parser = cli._parser()
    needs = {"export": ["--suite", "x"], "compare": ["--old", "a", "--new", "b", "--out", "c"]}
    for name in _subcommands():
        args = parser.parse_args([name, *needs.get(name, []), "--results", str(tmp_path)])
        assert args.results == tmp_path, name


def test_compare_pairs_a_batch_contenders_new_run_with_its_recorded_one():
    from benchmarks.compare import compare_runs

    def batch(seed: int, final: float) -> dict:
        return _record("branin", "bayesopt-q4", seed, final) | {"budget": 16}

    opt = problems.get("branin").optimum
    old = [batch(s, opt + 1.0) for s in range(8)]
    new = [batch(s, opt + 0.01) for s in range(8)]  # two decades lower on every seed
    (row,) = compare_runs(old, new, "bayesopt-q4")
    assert row.problem == "branin@16x4" and row.n_pairs == 8
    assert row.median_old == pytest.approx(0.0) and row.median_new == pytest.approx(-2.0)
    assert row.verdict == "new better"
