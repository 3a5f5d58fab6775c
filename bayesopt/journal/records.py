"""Journal records: values, params, settings, events and the header as JSON-able dicts.

Each ``encode_*`` has its ``decode_*`` inverse, which checks every field and raises
``EventError`` (wrapped by the reader with the line number) on anything it would not write.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import re
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesopt.events import (
    Added,
    Asked,
    Claimed,
    Enqueued,
    Event,
    EventError,
    Failed,
    Pruned,
    Reported,
    Told,
    typed,
)
from bayesopt.space import Space
from bayesopt.trial import Source, Trial, TrialState

__all__ = [
    "FORMAT",
    "VERSION",
    "Header",
    "decode_event",
    "decode_header",
    "decode_value",
    "encode_event",
    "encode_header",
    "encode_value",
]

FORMAT = "bayesopt-journal"
VERSION = 2
"""The newest version this code writes and reads. Version 2 adds the outcomes of a study
that declares objectives or constraints (``values`` and ``feasible`` on ``told`` and
``added`` events); a study told plain floats is still written as version 1, line for line
as before, so that older releases read it."""
OUTCOME_SETTINGS = ("objectives", "constraints")
EVENTS = (
    "created", "asked", "told", "failed", "added", "enqueued", "claimed", "reported", "pruned",
)  # fmt: skip
SESSION = re.compile(r"[0-9a-f]{32}")
"""A session id: 32 hex digits (a UUID4)."""
MOVED = {"bayesopt.surrogate:ModelOptions": "bayesopt.gp.model:ModelOptions"}
"""Settings classes that moved after journals named them: the old name -> the new one."""


# Values ---------------------------------------------------------------------------------------
def encode_value(x: Any) -> Any:
    """A JSON-able form of a parameter or objective value that decodes to an equal value of
    exactly the same type.

    Raises:
        TypeError: ``x`` is of a type the journal cannot store.
    """
    t = type(x)
    if x is None or t in (bool, int, str):
        return x
    if t is float:
        return x if math.isfinite(x) else {"$float": repr(x)}
    if t is tuple:
        return {"$tuple": [encode_value(v) for v in x]}
    if isinstance(x, np.generic) and _numpy_ok(x.dtype):
        return {"$numpy": x.dtype.str, "value": encode_value(x.item())}
    raise TypeError(
        f"a journal stores None, bool, int, float, str, tuples of them and numpy scalars, "
        f"but got {x!r} of type {t.__name__}."
    )


def _numpy_ok(dtype: np.dtype) -> bool:
    return dtype.kind in "biuU" or (dtype.kind == "f" and dtype.itemsize <= 8)


def decode_value(x: Any) -> Any:
    """The inverse of ``encode_value``.

    Raises:
        EventError: ``x`` is not something ``encode_value`` writes.
    """
    t = type(x)
    if x is None or t in (bool, int, str, float):
        return x
    if t is dict:
        keys = set(x)
        if keys == {"$float"} and x["$float"] in ("nan", "inf", "-inf"):
            return float(x["$float"])
        if keys == {"$tuple"} and type(x["$tuple"]) is list:
            return tuple(decode_value(v) for v in x["$tuple"])
        if keys == {"$numpy", "value"} and type(x["$numpy"]) is str:
            try:
                dtype = np.dtype(x["$numpy"])
            except TypeError:
                dtype = None
            if dtype is not None and _numpy_ok(dtype):
                value = decode_value(x["value"])
                try:
                    return dtype.type(value)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise EventError(f"bad numpy value {x!r}: {exc}") from exc
    raise EventError(f"cannot decode the value {x!r}")


def _encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in params.items()}


def decode_params(obj: Any, space: Space) -> dict[str, Any]:
    """Params read from a journal, checked against the space (exact types kept)."""
    if type(obj) is not dict:
        raise EventError(f"params must be an object, but got {obj!r}")
    params = {k: decode_value(v) for k, v in obj.items()}
    try:
        checked = space.validate(params)
    except (TypeError, ValueError) as exc:
        raise EventError(f"params {params!r} do not fit the space: {exc}") from exc
    if typed(checked) != typed(params):
        raise EventError(f"params {params!r} are not the canonical values of the space")
    return checked


def _encode_setting(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        cls = type(x)
        fields = {f.name: _encode_setting(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    return encode_value(x)


def _decode_setting(x: Any) -> Any:
    if type(x) is dict and set(x) == {"$dataclass", "fields"}:
        key = str(x["$dataclass"])
        module, _, name = MOVED.get(key, key).partition(":")
        if not (module == "bayesopt" or module.startswith("bayesopt.")):
            raise EventError(f"settings name a class outside bayesopt: {x['$dataclass']!r}")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise EventError(f"unknown settings class {x['$dataclass']!r}") from exc
        if not dataclasses.is_dataclass(cls) or type(x["fields"]) is not dict:
            raise EventError(f"bad settings {x!r}")
        try:
            return cls(**{k: _decode_setting(v) for k, v in x["fields"].items()})
        except (TypeError, ValueError) as exc:
            raise EventError(f"settings {x!r} no longer fit {name}: {exc}") from exc
    return decode_value(x)


# Events ---------------------------------------------------------------------------------------
def _field(obj: dict, key: str, kinds: tuple[type, ...], what: str) -> Any:
    if key not in obj:
        raise EventError(f"a {obj.get('event')!r} event needs `{key}`")
    value = obj[key]
    if type(value) not in kinds:
        raise EventError(
            f"`{key}` of a {obj.get('event')!r} event must be {what}, but got {value!r}"
        )
    return value


def _id(obj: dict, key: str = "id") -> int:
    value = _field(obj, key, (int,), "an int")
    if value < 0:
        raise EventError(f"`{key}` must be >= 0, but got {value}")
    return value


def _session(obj: dict) -> str:
    value = _field(obj, "session", (str,), "a session id")
    if not SESSION.fullmatch(value):
        raise EventError(f"`session` must be 32 hex digits, but got {value!r}")
    return value


def _error(obj: dict) -> str | None:
    return _field(obj, "error", (str, type(None)), "a string or null")


def _finite(obj: dict) -> float:
    value = decode_value(_field(obj, "value", (int, float, dict), "a number"))
    if type(value) not in (int, float) or not math.isfinite(value):
        raise EventError(f"`value` of a {obj['event']!r} event must be finite, but got {value!r}")
    return float(value)


def _source(obj: dict) -> Source:
    value = _field(obj, "source", (str,), "a string")
    try:
        return Source(value)
    except ValueError:
        raise EventError(f"unknown source {value!r}") from None


def _budget(item: dict) -> float | None:
    """An asked trial's optional ``budget``: a finite number > 0."""
    if "budget" not in item:
        return None
    value = _field(item, "budget", (int, float), "a number")
    if not (math.isfinite(value) and value > 0):
        raise EventError(f"`budget` must be finite and > 0, but got {value!r}")
    return value


def _encode_outcomes(values: Mapping[str, float] | None, feasible: bool | None) -> dict:
    """The ``values`` and ``feasible`` fields of a trial with several outcomes (none
    without)."""
    if values is None:
        return {}
    return {"values": {k: encode_value(v) for k, v in values.items()}, "feasible": feasible}


def _decode_outcomes(obj: dict) -> tuple[dict[str, float], bool | None]:
    raw = _field(obj, "values", (dict,), "an object")
    values = {}
    for k, v in raw.items():
        x = decode_value(v)
        if type(x) is not float:
            raise EventError(f"outcome {k!r} must be a float, but got {x!r}")
        values[k] = x
    return values, _field(obj, "feasible", (bool, type(None)), "a bool or null")


def encode_event(event: Event) -> dict[str, Any]:
    """The JSON record of an event (``"time"`` is the Unix time of the call)."""
    out: dict[str, Any]
    if isinstance(event, Asked):
        trials = [
            {"id": t.id, "params": _encode_params(t.params), "source": t.source.value}
            | ({} if t.budget is None else {"budget": t.budget})
            for t in event.trials
        ]
        out = {"event": "asked", "trials": trials, "dequeued": event.dequeued}
        out["session"] = event.session
    elif isinstance(event, Told):
        out = {"event": "told", "id": event.id, "value": event.value}
        out.update(_encode_outcomes(event.values, event.feasible))
    elif isinstance(event, Failed):
        out = {"event": "failed", "id": event.id, "error": event.error}
    elif isinstance(event, Added):
        t = event.trial
        out = {"event": "added", "id": t.id, "params": _encode_params(t.params)}
        out.update(value=t.value, error=t.error)
        out.update(_encode_outcomes(t.values, t.feasible))
    elif isinstance(event, Enqueued):
        out = {"event": "enqueued", "params": _encode_params(event.params)}
    elif isinstance(event, Claimed):
        out = {"event": "claimed", "ids": list(event.ids), "session": event.session}
    elif isinstance(event, Reported):
        out = {"event": "reported", "id": event.id, "step": event.step, "value": event.value}
    elif isinstance(event, Pruned):
        out = {"event": "pruned", "id": event.id, "error": event.error}
    else:  # pragma: no cover - internal misuse
        raise TypeError(f"not an event: {event!r}")
    out["time"] = round(time.time(), 6)
    return out


def decode_event(obj: dict[str, Any], space: Space) -> Event:
    """The event of a JSON record, every field checked (params against ``space``).

    Raises:
        EventError: a field is missing, mistyped or outside the space.
    """
    kind = obj.get("event")
    if kind not in EVENTS or kind == "created":
        raise EventError(f"unknown or misplaced event {kind!r}")
    if kind == "asked":
        trials = []
        for item in _field(obj, "trials", (list,), "a list"):
            if type(item) is not dict:
                raise EventError(f"asked trials must be objects, but got {item!r}")
            item = {"event": "asked", **item}
            source = _source(item)
            params = decode_params(_field(item, "params", (dict,), "an object"), space)
            trials.append(Trial(_id(item), params, source=source, budget=_budget(item)))
        if not trials:
            raise EventError("an asked event needs at least one trial")
        return Asked(tuple(trials), _id(obj, "dequeued"), _session(obj))
    if kind == "told":
        if "values" in obj:
            values, feasible = _decode_outcomes(obj)
            value = None if obj.get("value", 0) is None else _finite(obj)
            return Told(_id(obj), value, values, feasible)
        return Told(_id(obj), _finite(obj))
    if kind == "failed":
        return Failed(_id(obj), _error(obj))
    if kind == "added":
        params = decode_params(_field(obj, "params", (dict,), "an object"), space)
        if "values" in obj:
            values, feasible = _decode_outcomes(obj)
            value = None if obj.get("value", 0) is None else _finite(obj)
            error = _error(obj)
            state = TrialState.COMPLETE if error is None else TrialState.FAILED
            trial = Trial(_id(obj), params, value, state, Source.ADDED, error)
            return Added(dataclasses.replace(trial, values=values, feasible=feasible))
        if obj.get("value", 0) is None:
            return Added(
                Trial(_id(obj), params, None, TrialState.FAILED, Source.ADDED, _error(obj))
            )
        if _error(obj) is not None:
            raise EventError("an added event with a value has no error")
        return Added(Trial(_id(obj), params, _finite(obj), TrialState.COMPLETE, Source.ADDED))
    if kind == "enqueued":
        return Enqueued(decode_params(obj.get("params"), space))
    if kind == "reported":
        step = _field(obj, "step", (int, float), "a number")
        if not (math.isfinite(step) and step >= 0):
            raise EventError(f"`step` must be finite and >= 0, but got {step!r}")
        return Reported(_id(obj), step, _finite(obj))
    if kind == "pruned":
        return Pruned(_id(obj), _error(obj))
    ids = _field(obj, "ids", (list,), "a list")
    if not ids or any(type(i) is not int or i < 0 for i in ids):
        raise EventError(f"`ids` must be a non-empty list of ids, but got {ids!r}")
    return Claimed(tuple(ids), _session(obj))


# The header -----------------------------------------------------------------------------------
def space_to_json(space: Space) -> dict[str, Any]:
    """``space.to_dict()`` with the categorical choices, and the values that conditions
    test, encoded (a tuple choice survives as a tuple)."""
    out = space.to_dict()
    for entry in out.values():
        if not isinstance(entry, dict):
            continue  # the constraints
        if "choices" in entry:
            entry["choices"] = [encode_value(c) for c in entry["choices"]]
        if "when" in entry:
            entry["when"] = {k: [encode_value(v) for v in vs] for k, vs in entry["when"].items()}
    return out


def space_from_json(obj: Any) -> Space:
    """The inverse of ``space_to_json``."""
    if type(obj) is not dict:
        raise EventError(f"`space` must be an object, but got {obj!r}")
    spec = {}
    for name, entry in obj.items():
        if type(entry) is dict and type(entry.get("choices")) is list:
            entry = {**entry, "choices": [decode_value(c) for c in entry["choices"]]}
        if type(entry) is dict and type(entry.get("when")) is dict:
            when = {
                k: [decode_value(v) for v in vs] if type(vs) is list else vs
                for k, vs in entry["when"].items()
            }
            entry = {**entry, "when": when}
        spec[name] = entry
    try:
        return Space.from_dict(spec)
    except (TypeError, ValueError) as exc:
        raise EventError(f"bad space: {exc}") from exc


@dataclasses.dataclass(frozen=True)
class Header:
    """What a journal's first line (the ``created`` event) says about its study.

    Attributes:
        optimizer: the proposer's class as ``"module:qualname"``.
        space: the search space.
        seed: the study's seed.
        maximize: whether the study maximises.
        settings: the proposer's ``settings()``.
    """

    optimizer: str
    space: Space
    seed: int
    maximize: bool
    settings: dict[str, Any]


def encode_header(header: Header) -> dict[str, Any]:
    """The first line of a journal.

    Raises:
        TypeError: the space's choices or a setting cannot be stored.
    """
    return {
        "event": "created",
        "format": FORMAT,
        "version": VERSION if any(k in header.settings for k in OUTCOME_SETTINGS) else 1,
        "optimizer": header.optimizer,
        "space": space_to_json(header.space),
        "seed": header.seed,
        "maximize": header.maximize,
        "settings": {k: _encode_setting(v) for k, v in header.settings.items()},
        "time": round(time.time(), 6),
    }


def decode_header(obj: dict[str, Any]) -> Header:
    """Check and decode a ``created`` record.

    Raises:
        EventError: it is not a ``created`` record of a version this code reads.
    """
    if obj.get("event") != "created":
        raise EventError(
            f"the first line must be a 'created' event, but it is {obj.get('event')!r}; "
            "is this a bayesopt journal?"
        )
    if obj.get("format") != FORMAT:
        raise EventError(f"`format` must be {FORMAT!r}, but got {obj.get('format')!r}")
    version = obj.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise EventError(f"journal version {version!r}; this bayesopt reads versions 1..{VERSION}")
    seed = _field(obj, "seed", (int,), "an int")
    settings = _field(obj, "settings", (dict,), "an object")
    return Header(
        optimizer=_field(obj, "optimizer", (str,), "a class name"),
        space=space_from_json(obj.get("space")),
        seed=seed,
        maximize=_field(obj, "maximize", (bool,), "a bool"),
        settings={k: _decode_setting(v) for k, v in settings.items()},
    )
