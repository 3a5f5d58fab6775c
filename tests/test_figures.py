"""Styles of the benchmark figures: every contender distinct within a figure, and stable."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
from matplotlib.colors import is_color_like
from matplotlib.markers import MarkerStyle

from benchmarks import contenders, figures, problems
from benchmarks.figures import curves_figure, plot_cd, plot_curves, style_of, styles_for
from benchmarks.results_table import ProblemResults, Results

ROOT = Path(__file__).resolve().parents[1]
UNKNOWN = ["bayesopt-exp-a", "bayesopt-exp-b", "my-optimizer", "bayesopt+trick"]


def _colliding_pair() -> tuple[str, str]:
    """Two unregistered names whose CRC-32 picks the same starting style."""
    seen: dict[int, str] = {}
    for i in itertools.count():
        name = f"variant-{i}"
        slot = figures._slot(name)
        if slot in seen:
            return seen[slot], name
        seen[slot] = name
    raise AssertionError("unreachable")


def _valid(style: tuple[str, str, str]) -> bool:
    colour, line, marker = style
    return (
        is_color_like(colour) and line in ("-", "--", "-.", ":") and marker in MarkerStyle.markers
    )


def test_unregistered_names_get_styles_apart_from_every_registered_one() -> None:
    registered = {style_of(n) for n in contenders.names()}
    for name in UNKNOWN:
        style = style_of(name)
        assert _valid(style)
        assert style not in registered
    assert len({style_of(n) for n in UNKNOWN}) == len(UNKNOWN)


def test_a_figure_never_draws_two_contenders_alike() -> None:
    names = ["bayesopt", "random", "random-2x", "bayesopt-v1", "bayesopt-v1+logei", *UNKNOWN]
    styles = styles_for(names)
    assert set(styles) == set(names)
    assert all(_valid(s) for s in styles.values())
    assert len(set(styles.values())) == len(names)
    # Colour and line style alone already tell the curves apart (markers are sparse).
    assert len({s[:2] for s in styles.values()}) == len(names)


def test_names_that_hash_alike_are_still_drawn_apart() -> None:
    a, b = _colliding_pair()
    assert figures._slot(a) == figures._slot(b)
    styles = styles_for([a, b])
    assert styles[a] != styles[b]
    assert styles[a][:2] != styles[b][:2]


def test_more_curves_than_colour_and_line_pairs_stay_distinct() -> None:
    names = [f"variant-{i}" for i in range(120)]  # 10 colours x 4 line styles = 40 pairs
    styles = styles_for(names)
    assert len(set(styles.values())) == len(names)


def test_styles_are_deterministic_and_independent_of_order() -> None:
    names = ["bayesopt", "random", *UNKNOWN, *_colliding_pair()]
    first = styles_for(names)
    assert styles_for(reversed(names)) == first
    assert styles_for(names + names) == first
    for name in names:
        assert styles_for([name])[name] == style_of(name)


def test_hand_picked_styles_are_kept_in_every_figure() -> None:
    crowded = styles_for(["bayesopt", "random", "random-2x", *UNKNOWN])
    assert crowded["bayesopt"] == style_of("bayesopt") == ("tab:blue", "-", "o")
    assert crowded["random"] == style_of("random")
    assert crowded["random-2x"] == style_of("random-2x")


@pytest.mark.slow
def test_styles_do_not_depend_on_the_interpreter_s_hash_seed() -> None:
    code = "from benchmarks.figures import style_of; print(style_of('bayesopt-exp-a'))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        for seed in ("1", "2")
    }
    assert outs == {f"{style_of('bayesopt-exp-a')}\n"}


def _results(names: list[str]) -> Results:
    problem = problems.get("branin")
    curves = {
        name: {seed: [3.0 - 0.1 * k - 0.01 * i for k in range(5)] for seed in range(3)}
        for i, name in enumerate(names)
    }
    final = {name: {seed: c[-1] for seed, c in runs.items()} for name, runs in curves.items()}
    pr = ProblemResults("branin", problem, 5, None, curves, final)
    return Results({"branin": pr}, [], [])


def test_the_curves_figure_draws_each_contender_in_its_own_style() -> None:
    names = ["bayesopt", "random", *UNKNOWN]
    fig = curves_figure(_results(names))
    try:
        drawn = {
            line.get_label(): (line.get_color(), line.get_linestyle(), line.get_marker())
            for line in fig.axes[0].lines
        }
    finally:
        figures._pyplot().close(fig)
    assert set(drawn) == set(names)
    assert len(set(drawn.values())) == len(names)
    expected = styles_for(names)
    assert drawn == {n: expected[n] for n in names}


def test_plot_curves_and_plot_cd_write_pngs_with_unregistered_names(tmp_path: Path) -> None:
    names = ["bayesopt", *UNKNOWN]
    curves = plot_curves(_results(names), tmp_path / "curves.png")
    cd = plot_cd({n: 1.0 + i for i, n in enumerate(names)}, 1.5, tmp_path / "cd.png")
    for path in (curves, cd):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
