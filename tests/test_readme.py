"""The README's example runs as written, and shows what it says: bayesopt beating random
search by a clear margin, on every one of several seeds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bayesopt as bo

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _example() -> str:
    blocks = _python_blocks()
    assert blocks, "README has no python example"
    return blocks[0]


def _run(example: str, seed: int = 0) -> dict:
    """The example's namespace after running it with every ``seed=0`` set to ``seed``."""
    assert example.count("seed=0") == 2  # the optimiser's and the baseline's
    code = example.replace("seed=0", f"seed={seed}")
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace


def _margin(namespace: dict) -> tuple[float, float]:
    bayes, baseline = namespace["bayes"], namespace["baseline"]
    assert isinstance(bayes, bo.Optimizer) and isinstance(baseline, bo.RandomSearch)
    assert len(bayes.trials) == len(baseline.trials) == 20
    return bayes.best.value, baseline.best.value


def test_readme_example_runs_and_prints_what_the_readme_shows(capsys):
    example = _example()
    assert len(example.strip().splitlines()) <= 20
    namespace = _run(example)
    ours, theirs = _margin(namespace)
    assert ours < 1e-3 < theirs  # the optimum is 0 at lr=0.01, depth=5, act="gelu"
    best = namespace["bayes"].best.params
    assert best["depth"] == 5 and best["act"] == "gelu" and abs(best["lr"] - 0.01) < 1e-3
    printed = capsys.readouterr().out.splitlines()
    shown = README.read_text().split(example, 1)[1].split("```\n")[2].splitlines()
    assert len(printed) == len(shown) == 2  # the output block right after the example
    digits = re.compile(r"(\d\.\d\d)\d+")  # long floats, to two decimals

    def short(line: str) -> str:
        return digits.sub(r"\1", line)

    assert short(printed[1]) == short(shown[1])  # random search
    for line in (printed[0], shown[0]):
        assert line.startswith("   Optimizer: ") and "'depth': 5, 'act': 'gelu'}" in line


@pytest.mark.slow  # five seeds of both searches, and minimize: ~30 s
def test_readme_example_beats_random_search_by_a_clear_margin_on_seeds_0_to_4():
    example = _example()
    for seed in range(5):
        ours, theirs = _margin(_run(example, seed))
        assert ours < 1e-3 < theirs, (seed, ours, theirs)
        assert ours < theirs / 100, (seed, ours, theirs)
    namespace = _run(example)  # the README's claim: minimize runs the same loop
    result = bo.minimize(namespace["train"], namespace["space"], n_trials=20, seed=0,
                         progress=False)  # fmt: skip
    assert [t.params for t in result.trials] == [t.params for t in namespace["bayes"].trials]
    assert result.best.value == namespace["bayes"].best.value


def test_readme_links_to_files_that_exist():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+://", t)]
    assert "docs/getting-started.md" in local
    missing = [t for t in local if t and not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
