"""The documentation: the site builds strictly, its examples run, and the README and the
pages name only what the package exports."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import bayesopt
import bayesopt as bo

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_PLUGINS = ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


# --- the site ------------------------------------------------------------------------------------


@pytest.mark.slow  # renders five notebooks and the API reference: ~20 s
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    for module in BUILD_PLUGINS:
        pytest.importorskip(module, reason="the `docs` extra is not installed")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    api = (site / "api" / "minimize" / "index.html").read_text()
    assert "bayesopt.run.minimize" in api or "minimize" in api
    assert "unpack" in api  # from the docstring, with its arguments
    notebook = site / "notebooks" / "01_gaussian_processes" / "index.html"
    assert "<img" in notebook.read_text()  # rendered with its committed figures
    assert (site / "guarantees" / "index.html").exists()


def test_every_markdown_page_is_in_the_navigation():
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):  # mkdocs.yml may use !!python/name tags
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *args: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)

    def leaves(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [p for value in node.values() for p in leaves(value)]
        return [p for item in node for p in leaves(item)]

    nav = set(leaves(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - nav == set(), "pages missing from the nav in mkdocs.yml"
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert notebooks and notebooks <= nav


# --- names ---------------------------------------------------------------------------------------

REFERENCE = re.compile(r"(?<![\w./-])(?:bo|bayesopt)((?:\.[A-Za-z_]\w*)+)")


def _resolve(dotted: str) -> object | None:
    """The object ``bayesopt<dotted>`` names, importing submodules on the way; ``None``
    when a module needs an optional package that is not installed."""
    obj: object = bayesopt
    name = "bayesopt"
    for part in dotted.strip(".").split("."):
        name = f"{name}.{part}"
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif isinstance(obj, ModuleType):
            try:
                obj = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name and not exc.name.startswith("bayesopt"):
                    return None  # an optional dependency (sklearn, optuna, ray)
                raise AttributeError(name) from exc
        else:
            raise AttributeError(name)
    return obj


def _exported() -> dict[int, str]:
    return {id(getattr(bo, name)): name for name in bo.__all__}


def _problems(text: str) -> list[str]:
    exported = _exported()
    problems = []
    for match in REFERENCE.finditer(text):
        dotted, shown = match.group(1), match.group(0)
        first = dotted.split(".")[1]
        try:
            obj = _resolve(dotted)
            head = _resolve("." + first)
        except (AttributeError, ImportError):
            problems.append(f"{shown} does not resolve")
            continue
        is_module = head is None or inspect.ismodule(head)  # None: needs an optional package
        if first.startswith("_"):
            problems.append(f"{shown} is private")
        elif first not in bo.__all__ and not is_module:
            problems.append(f"{shown} is not exported by bayesopt")
        elif is_module and not inspect.ismodule(obj) and id(obj) in exported:
            problems.append(f"{shown}: spell it bo.{exported[id(obj)]}")
    return problems


def test_the_reference_checker_flags_what_it_should():
    good = "bo.Optimizer, bo.ModelOptions.botorch(), bayesopt.pruners, `::: bayesopt.run`"
    assert _problems(good) == []
    bad = "bo.Nothing, bo.propose.ProposeOptions, bayesopt._threads.LARGE_N, bo.optimizer.X"
    assert _problems(bad) == [
        "bo.Nothing does not resolve",
        "bo.propose.ProposeOptions: spell it bo.ProposeOptions",
        "bayesopt._threads.LARGE_N is private",
        "bo.optimizer.X does not resolve",
    ]
    assert _problems("see bayesopt/cli.py and examples/bo.py, or my.bo.Thing") == []


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_readme_and_the_docs_name_only_exported_names(page):
    problems = _problems(page.read_text())
    assert not problems, "\n".join(problems)


def test_every_public_name_a_user_passes_is_exported():
    for name in ["ModelOptions", "ProposeOptions", "Storage", "TrialHandle", "Pruned",
                 "MedianPruner", "SuccessiveHalving", "ASHA", "Hyperband", "Pruner",
                 "TrialState", "Source", "FallbackReason", "Result", "Importance"]:  # fmt: skip
        assert name in bo.__all__, name
    assert bo.ASHA is bo.pruners.ASHA and bo.ProposeOptions is bayesopt.propose.ProposeOptions


# --- examples in the pages -----------------------------------------------------------------------


def _blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


def test_the_pruning_example_runs_and_prunes():
    example = next(b for b in _blocks("guide/pruning.md") if "pruner=" in b)

    def train_one_epoch(params: dict, epoch: int) -> float:  # a learning curve per config
        return (params["x"] - 0.3) ** 2 + 1.0 / epoch

    namespace: dict = {"train_one_epoch": train_one_epoch,
                       "space": bo.Space({"x": bo.Real(0.0, 1.0)})}  # fmt: skip
    exec(compile(example, "docs/guide/pruning.md", "exec"), namespace)
    opt = namespace["opt"]
    states = [t.state for t in opt.trials]
    assert len(states) == 30 and bo.TrialState.PRUNED in states
    assert bo.TrialState.COMPLETE in states
    assert abs(opt.best.params["x"] - 0.3) < 0.1


def test_the_multifidelity_example_trains_each_trial_to_its_budget():
    example = next(b for b in _blocks("guide/pruning.md") if "fidelity=" in b)
    example = example.replace("range(40)", "range(12)")  # the same loop, fewer trials

    def train_one_epoch(params: dict, epoch: int) -> float:
        return (params["x"] - 0.3) ** 2 + 1.0 / epoch

    namespace: dict = {"train_one_epoch": train_one_epoch, "bo": bo,
                       "space": bo.Space({"x": bo.Real(0.0, 1.0)})}  # fmt: skip
    exec(compile(example, "docs/guide/pruning.md", "exec"), namespace)
    trials = namespace["opt"].trials
    assert len(trials) == 12
    for t in trials:
        assert t.intermediate[-1][0] == t.budget
        full = t.budget == 50
        assert t.state is (bo.TrialState.COMPLETE if full else bo.TrialState.PRUNED)
    assert {t.budget for t in trials} > {50}


def test_the_checkpoint_example_resumes_promoted_runs():
    first, resume = [b for b in _blocks("guide/pruning.md") if "fidelity=" in b]
    setup = first.split("for _ in")[0]  # space and fid as the guide defines them
    example = resume.replace("range(40)", "range(14)")  # the same loop, fewer trials

    def new_model(params: dict) -> dict:
        return {"params": params}

    def train_epoch(model: dict, epoch: int) -> float:
        return (model["params"]["x"] - 0.3) ** 2 + 1.0 / epoch

    namespace: dict = {"bo": bo, "space": bo.Space({"x": bo.Real(0.0, 1.0)}),
                       "new_model": new_model, "train_epoch": train_epoch}  # fmt: skip
    exec(compile(setup + example, "docs/guide/pruning.md", "exec"), namespace)
    opt = namespace["opt"]
    resumed = [t for t in opt.trials if opt.continues(t) is not None]
    assert resumed and len(opt.trials) == 14
    for t in resumed:  # its reports start after the earlier run's last epoch
        assert t.intermediate[0][0] == opt.continues(t).intermediate[-1][0] + 1


def test_the_getting_started_example_is_the_readmes():
    readme = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert _blocks("getting-started.md")[0] == readme[0]


def test_the_spaces_page_example_runs():
    (example, *_) = _blocks("guide/spaces.md")
    namespace: dict = {}
    exec(compile(example, "docs/guide/spaces.md", "exec"), namespace)
    space = namespace["space"]
    assert space.names == ["lr", "dropout", "depth", "width", "act"]
