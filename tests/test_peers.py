"""Tests of the peer adapters added beside Optuna and scikit-optimize: shared helpers,
Nevergrad, SMAC3, Ax, and peers served from another environment over JSON lines."""

from __future__ import annotations

import math
import sys
import threading
from pathlib import Path

import pytest

import bayesopt as bo
from benchmarks import contenders, problems
from benchmarks.cell import Cell, run_cell
from benchmarks.peers import subprocess_session
from benchmarks.peers.common import (
    WorstImputer,
    category_labels,
    from_label,
    plain,
    space_spec,
)

MIXED = bo.Space(
    {
        "lr": bo.Real(1e-4, 1e-1, log=True),
        "x": bo.Real(-1.0, 2.0),
        "k": bo.Integer(1, 64, log=True),
        "n": bo.Integer(0, 5),
        "act": bo.Categorical(["relu", "tanh"]),
        "flag": bo.Categorical([True, False, None]),
    }
)


def _check_params(params: dict, space: bo.Space = MIXED) -> None:
    assert set(params) == set(space.names)
    for name, p in space.items():
        value = params[name]
        if isinstance(p, bo.Categorical):
            assert any(value is c or value == c for c in p.choices), (name, value)
        elif isinstance(p, bo.Integer):
            assert type(value) is int and p.low <= value <= p.high, (name, value)
        else:
            assert type(value) is float and p.low <= value <= p.high, (name, value)


# Shared helpers ----------------------------------------------------------------------------
def test_worst_imputer_replaces_failures_with_the_worst_value_seen() -> None:
    imputer = WorstImputer()
    assert imputer.finite(math.nan) == 1.0
    assert imputer.finite(3.0) == 3.0 and imputer.finite(-2.0) == -2.0
    assert imputer.finite(math.inf) == 3.0 and imputer.failed == 2


def test_category_labels_round_trip_to_the_choices() -> None:
    p = MIXED["flag"]
    assert category_labels(p) == ["True", "False", "None"]
    assert [from_label(label, p) for label in category_labels(p)] == [True, False, None]
    clash = bo.Categorical([1, "1"])
    assert category_labels(clash) == ["c0", "c1"]
    assert from_label("c1", clash) == "1"
    with pytest.raises(ValueError):
        from_label("nope", p)


def test_plain_clips_and_converts_peer_values() -> None:
    assert plain(70.4, MIXED["k"]) == 64 and type(plain(3.6, MIXED["n"])) is int
    assert plain(-5.0, MIXED["x"]) == -1.0
    assert plain("tanh", MIXED["act"]) == "tanh" and plain("None", MIXED["flag"]) is None


def test_space_spec_describes_every_parameter() -> None:
    spec = {p["name"]: p for p in space_spec(MIXED)}
    assert spec["lr"] == {"name": "lr", "type": "real", "low": 1e-4, "high": 0.1, "log": True}
    assert spec["k"]["type"] == "integer" and spec["k"]["log"] is True
    labels = ["True", "False", "None"]
    assert spec["flag"] == {"name": "flag", "type": "categorical", "choices": labels}


# Nevergrad ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nevergrad-ngopt", "nevergrad-cma"])
def test_nevergrad_sessions_handle_every_kind_and_failures(name: str) -> None:
    pytest.importorskip("nevergrad")
    contender = contenders.get(name)
    assert contender.budgeted and contender.family == "peer"

    def run(seed: int) -> list[dict]:
        session = contender.session(MIXED, seed, 12)
        asked = []
        for i in range(12):
            params = session.ask()
            _check_params(params)
            asked.append(params)
            session.tell(math.nan if i == 3 else params["x"] ** 2)
        _check_params(session.recommend())
        assert session.info()["failed_imputed"] == 1
        session.close()
        return asked

    assert run(0) == run(0)  # seeded
    assert run(0) != run(1)


def test_ngopt_recast_threads_stop_on_close() -> None:
    pytest.importorskip("nevergrad")
    space = bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(3)})
    session = contenders.get("nevergrad-ngopt").session(space, 0, 30)
    for _ in range(5):
        params = session.ask()
        session.tell(sum(v * v for v in params.values()))
    session.close()
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(timeout=5)
            assert not thread.is_alive(), thread.name


# SMAC3 --------------------------------------------------------------------------------------
def test_configspace_conversion() -> None:
    pytest.importorskip("smac")
    from benchmarks.peers.smac_session import configspace

    cs = configspace(MIXED, seed=0)
    assert cs["lr"].log and (cs["lr"].lower, cs["lr"].upper) == (1e-4, 0.1)
    assert cs["k"].log and (cs["k"].lower, cs["k"].upper) == (1, 64)
    assert not cs["n"].log and list(cs["flag"].choices) == ["True", "False", "None"]


@pytest.mark.slow  # SMAC's initial design and random forest: ~10 s
def test_smac_hpo_session_runs_tells_failures_and_cleans_up() -> None:
    pytest.importorskip("smac")
    session = contenders.get("smac-hpo").session(MIXED, 0, 14)
    folder = session._folder
    assert folder.exists()
    for i in range(14):
        params = session.ask()
        _check_params(params)
        session.tell(math.nan if i == 2 else params["x"] ** 2 + params["n"])
    _check_params(session.recommend())
    assert session.info() == {"failed_imputed": 1}
    session.close()
    assert not folder.exists()


# Ax -----------------------------------------------------------------------------------------
def test_ax_parameters_keep_types_and_scales() -> None:
    pytest.importorskip("ax")
    from benchmarks.peers.ax_session import ax_parameters

    configs = {c.name: c for c in ax_parameters(MIXED)}
    assert configs["lr"].scaling == "log" and configs["lr"].parameter_type == "float"
    assert configs["k"].parameter_type == "int" and configs["k"].bounds == (1, 64)
    assert configs["flag"].values == ["True", "False", "None"]
    assert configs["flag"].is_ordered is False


@pytest.mark.slow  # Ax fits BoTorch models: tens of seconds on a busy 2-core machine
def test_ax_session_runs_a_batch_and_a_failure() -> None:
    pytest.importorskip("ax")
    space = bo.Space({"x": bo.Real(-1.0, 2.0), "act": bo.Categorical(["relu", "tanh"])})
    session = contenders.get("ax").session(space, 0, 6)
    try:
        batch = session.ask_batch(3)
        assert 1 <= len(batch) <= 3
        for params in batch:
            _check_params(params, space)
        session.tell_batch([math.nan] + [p["x"] ** 2 for p in batch[1:]])
        params = session.ask()
        _check_params(params, space)
        session.tell(params["x"] ** 2)
    finally:
        session.close()


# Peers in another environment ----------------------------------------------------------------
def _uniform(seed: int = 0) -> subprocess_session.SubprocessSession:
    return subprocess_session.SubprocessSession(MIXED, seed, 10, "uniform", Path(sys.executable))


def test_subprocess_session_speaks_json_lines() -> None:
    session = _uniform()
    try:
        batch = session.ask_batch(3)
        assert len(batch) == 3
        for params in batch:
            _check_params(params)
        session.tell_batch([0.5, math.nan, 2.0])
        assert session.info()["failed_imputed"] == 1
        assert session.info()["versions"]["python"]
        single = session.ask()
        _check_params(single)
        session.tell(1.0)
        again = _uniform()
        try:
            assert again.ask_batch(3) == batch  # seeded by the run's seed
        finally:
            again.close()
    finally:
        session.close()
    assert session._process.poll() == 0


def test_subprocess_session_reports_server_errors() -> None:
    session = _uniform()
    try:
        with pytest.raises(RuntimeError, match="unknown op"):
            session._call({"op": "dance"})
        session.ask()  # the server keeps serving after an error
    finally:
        session.close()


def test_missing_side_environment_names_the_script(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make_venv.py hebo"):
        subprocess_session.SubprocessSession(
            MIXED, 0, 10, "hebo", tmp_path / ".venv-hebo" / "bin" / "python"
        )


def test_hebo_is_a_peer_available_only_with_its_environment(monkeypatch, tmp_path) -> None:
    hebo = contenders.get("hebo")
    assert hebo.family == "peer" and "make_venv.py hebo" in hebo.needs
    monkeypatch.setattr(subprocess_session, "ROOT", tmp_path)
    assert not hebo.available()


@pytest.mark.slow  # HEBO's GP and evolutionary acquisition search: ~30 s
def test_hebo_runs_from_its_side_environment() -> None:
    if not subprocess_session.venv_python("hebo").exists():
        pytest.skip("no .venv-hebo: python benchmarks/peers/make_venv.py hebo")
    record = run_cell(Cell("mixed-levy", "hebo", 0, 12))
    assert record["status"] == "ok", record["error"]
    assert len(record["params"]) == 12 and math.isfinite(record["final"])
    assert record["info"]["versions"]["hebo"] != "absent"


def test_every_new_peer_runs_a_mixed_cell() -> None:
    for name in ["nevergrad-ngopt", "nevergrad-cma"]:
        if not contenders.get(name).available():
            continue
        record = run_cell(Cell("mixed-levy", name, 0, 10))
        assert record["status"] == "ok", record["error"]
        assert len(record["params"]) == 10
        assert problems.get("mixed-levy").fn(record["params"][0]) == record["values"][0]
