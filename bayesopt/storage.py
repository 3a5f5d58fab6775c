"""Append-only journal: persist a study, resume it, share it between processes.

``Optimizer(space, storage="study.jsonl")`` records every change of the study as one JSON
line, written, flushed and fsynced before the call returns:

========== ==============================================================================
event      fields (besides ``"event"`` and ``"time"``, the Unix time of the write)
========== ==============================================================================
created    ``format``, ``version``, ``optimizer`` (class), ``space``, ``seed``,
           ``maximize``, ``settings`` (the constructor's other keyword arguments)
asked      ``trials`` (``id``, ``params``, ``source`` each), ``dequeued`` (how many came
           from the queue), ``session`` (the writer that asked them)
told       ``id``, ``value``
failed     ``id``, ``error`` (``"TypeName: message"`` or ``null``)
added      ``id``, ``params``, ``value`` (``null`` when failed), ``error``
enqueued   ``params``
claimed    ``ids``, ``session``: pending trials whose writer died, taken over by another
========== ==============================================================================

Every line also ends with ``"seq"`` (its line number) and ``"crc"`` (the CRC-32, in hex, of
the line's bytes before ``,"crc":``), so that a changed, lost, repeated or moved line is
detected rather than read as a different history. The files are strict JSON (ASCII).
Values JSON cannot hold are tagged so that they round-trip with their exact type:
``{"$float": "nan" | "inf" | "-inf"}``, ``{"$tuple": [...]}`` and
``{"$numpy": "<f4", "value": 0.5}`` for numpy scalars (bool, int, uint, float up to 64
bits, str). ``None``, ``bool``, ``int``, ``str`` and finite ``float`` are plain JSON, and
Python writes floats with ``repr``, which reads back bit for bit.

Crash safety: the lines of a call are written with one ``write``, then fsynced. A crash mid-write
can only leave a torn *last* line; reading skips it with a ``JournalWarning`` (a writer also
cuts it off the file before appending). Anything else that does not parse, or that does not
fit the history before it (an unknown trial, a trial told twice, ids out of order, params
outside the space) raises ``JournalError`` naming the line.

Processes: every change takes an exclusive ``flock`` on the journal, first reads and applies
what other processes appended since this one last read, then appends its own events. So
ids stay unique, no event is lost or duplicated, and each process sees the others' results
at its next call. Each writer also holds a lock on a small file in ``<journal>.sessions/``
for its lifetime, so that others can tell when it died (the kernel drops the locks of a dead
process, even after SIGKILL); ``minimize`` then claims its pending trials and evaluates them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import json
import math
import os
import re
import time
import uuid
import warnings
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from bayesopt.space import Space
from bayesopt.trial import Trial, TrialState

__all__ = [
    "FORMAT",
    "VERSION",
    "Journal",
    "JournalError",
    "JournalWarning",
    "decode_value",
    "encode_value",
    "load",
]

FORMAT = "bayesopt-journal"
VERSION = 1
EVENTS = ("created", "asked", "told", "failed", "added", "enqueued", "claimed")
_TORN_PREFIX = b'{"event":"'
_SESSION = re.compile(r"[0-9a-f]{32}")


class JournalError(ValueError):
    """A journal is corrupt beyond a torn last line; the message names the line."""


class JournalWarning(UserWarning):
    """A torn or garbled last line (what a crash mid-write leaves) was skipped."""


class Bad(Exception):
    """An event does not decode or does not fit the history (internal; wrapped with a line)."""


# Values --------------------------------------------------------------------------------------
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
        Bad: ``x`` is not something ``encode_value`` writes.
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
                    raise Bad(f"bad numpy value {x!r}: {exc}") from exc
    raise Bad(f"cannot decode the value {x!r}")


def _encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in params.items()}


def _typed(params: Mapping[str, Any]) -> list[tuple[str, type, Any]]:
    return [(k, type(v), v) for k, v in params.items()]


def decode_params(obj: Any, space: Space) -> dict[str, Any]:
    """Params read from a journal, checked against the space (exact types kept)."""
    if type(obj) is not dict:
        raise Bad(f"params must be an object, but got {obj!r}")
    params = {k: decode_value(v) for k, v in obj.items()}
    try:
        checked = space.validate(params)
    except (TypeError, ValueError) as exc:
        raise Bad(f"params {params!r} do not fit the space: {exc}") from exc
    if _typed(checked) != _typed(params):
        raise Bad(f"params {params!r} are not the canonical values of the space")
    return checked


def _encode_setting(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        cls = type(x)
        fields = {f.name: _encode_setting(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    return encode_value(x)


def _decode_setting(x: Any) -> Any:
    if type(x) is dict and set(x) == {"$dataclass", "fields"}:
        module, _, name = str(x["$dataclass"]).partition(":")
        if not (module == "bayesopt" or module.startswith("bayesopt.")):
            raise Bad(f"settings name a class outside bayesopt: {x['$dataclass']!r}")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise Bad(f"unknown settings class {x['$dataclass']!r}") from exc
        if not dataclasses.is_dataclass(cls) or type(x["fields"]) is not dict:
            raise Bad(f"bad settings {x!r}")
        try:
            return cls(**{k: _decode_setting(v) for k, v in x["fields"].items()})
        except (TypeError, ValueError) as exc:
            raise Bad(f"settings {x!r} no longer fit {name}: {exc}") from exc
    return decode_value(x)


# Events --------------------------------------------------------------------------------------
def _field(obj: dict, key: str, kinds: tuple[type, ...], what: str) -> Any:
    if key not in obj:
        raise Bad(f"a {obj.get('event')!r} event needs `{key}`")
    value = obj[key]
    if type(value) not in kinds:
        raise Bad(f"`{key}` of a {obj.get('event')!r} event must be {what}, but got {value!r}")
    return value


def _id(obj: dict, key: str = "id") -> int:
    value = _field(obj, key, (int,), "an int")
    if value < 0:
        raise Bad(f"`{key}` must be >= 0, but got {value}")
    return value


def _session(obj: dict) -> str:
    value = _field(obj, "session", (str,), "a session id")
    if not _SESSION.fullmatch(value):
        raise Bad(f"`session` must be 32 hex digits, but got {value!r}")
    return value


def _error(obj: dict) -> str | None:
    return _field(obj, "error", (str, type(None)), "a string or null")


def _finite(obj: dict) -> float:
    value = decode_value(_field(obj, "value", (int, float, dict), "a number"))
    if type(value) not in (int, float) or not math.isfinite(value):
        raise Bad(f"`value` of a {obj['event']!r} event must be finite, but got {value!r}")
    return float(value)


def encode_event(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON record of an internal event (see ``decode_event`` for the shapes)."""
    kind = event["event"]
    out: dict[str, Any] = {"event": kind}
    if kind == "asked":
        out["trials"] = [
            {"id": t.id, "params": _encode_params(t.params), "source": t.source}
            for t in event["trials"]
        ]
        out["dequeued"] = event["dequeued"]
        out["session"] = event["session"]
    elif kind == "told":
        out.update(id=event["id"], value=event["value"])
    elif kind == "failed":
        out.update(id=event["id"], error=event["error"])
    elif kind == "added":
        t: Trial = event["trial"]
        out.update(id=t.id, params=_encode_params(t.params), value=t.value, error=t.error)
    elif kind == "enqueued":
        out["params"] = _encode_params(event["params"])
    elif kind == "claimed":
        out.update(ids=list(event["ids"]), session=event["session"])
    else:  # pragma: no cover - internal misuse
        raise ValueError(f"unknown event {kind!r}")
    out["time"] = round(time.time(), 6)
    return out


def decode_event(obj: dict[str, Any], space: Space) -> dict[str, Any]:
    """An internal event from a JSON record, every field checked.

    Shapes: ``asked``: ``trials`` (list of pending ``Trial``), ``dequeued``, ``session``;
    ``told``: ``id``, ``value``; ``failed``: ``id``, ``error``; ``added``: ``trial``
    (finished); ``enqueued``: ``params``; ``claimed``: ``ids``, ``session``.

    Raises:
        Bad: a field is missing, mistyped or outside the space.
    """
    kind = obj.get("event")
    if kind not in EVENTS or kind == "created":
        raise Bad(f"unknown or misplaced event {kind!r}")
    if kind == "asked":
        trials = []
        for item in _field(obj, "trials", (list,), "a list"):
            if type(item) is not dict:
                raise Bad(f"asked trials must be objects, but got {item!r}")
            item = {"event": "asked", **item}
            source = _field(item, "source", (str,), "a string")
            params = decode_params(_field(item, "params", (dict,), "an object"), space)
            trials.append(Trial(_id(item), params, source=source))
        if not trials:
            raise Bad("an asked event needs at least one trial")
        return {
            "event": kind,
            "trials": trials,
            "dequeued": _id(obj, "dequeued"),
            "session": _session(obj),
        }
    if kind == "told":
        return {"event": kind, "id": _id(obj), "value": _finite(obj)}
    if kind == "failed":
        return {"event": kind, "id": _id(obj), "error": _error(obj)}
    if kind == "added":
        params = decode_params(_field(obj, "params", (dict,), "an object"), space)
        if obj.get("value", 0) is None:
            trial = Trial(_id(obj), params, None, TrialState.FAILED, "added", _error(obj))
        else:
            if _error(obj) is not None:
                raise Bad("an added event with a value has no error")
            trial = Trial(_id(obj), params, _finite(obj), TrialState.COMPLETE, "added")
        return {"event": kind, "trial": trial}
    if kind == "enqueued":
        return {"event": kind, "params": decode_params(obj.get("params"), space)}
    ids = _field(obj, "ids", (list,), "a list")
    if not ids or any(type(i) is not int or i < 0 for i in ids):
        raise Bad(f"`ids` must be a non-empty list of ids, but got {ids!r}")
    return {"event": kind, "ids": list(ids), "session": _session(obj)}


def space_to_json(space: Space) -> dict[str, Any]:
    """``space.to_dict()`` with the categorical choices encoded."""
    out = space.to_dict()
    for entry in out.values():
        if "choices" in entry:
            entry["choices"] = [encode_value(c) for c in entry["choices"]]
    return out


def space_from_json(obj: Any) -> Space:
    """The inverse of ``space_to_json``."""
    if type(obj) is not dict:
        raise Bad(f"`space` must be an object, but got {obj!r}")
    spec = {}
    for name, entry in obj.items():
        if type(entry) is dict and type(entry.get("choices")) is list:
            entry = {**entry, "choices": [decode_value(c) for c in entry["choices"]]}
        spec[name] = entry
    try:
        return Space.from_dict(spec)
    except (TypeError, ValueError) as exc:
        raise Bad(f"bad space: {exc}") from exc


def created_record(
    cls: type, space: Space, seed: int, maximize: bool, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The first line of a journal."""
    return {
        "event": "created",
        "format": FORMAT,
        "version": VERSION,
        "optimizer": f"{cls.__module__}:{cls.__qualname__}",
        "space": space_to_json(space),
        "seed": seed,
        "maximize": maximize,
        "settings": {k: _encode_setting(v) for k, v in settings.items()},
        "time": round(time.time(), 6),
    }


class Created(NamedTuple):
    """What the ``created`` line says."""

    optimizer: str
    space: Space
    seed: int
    maximize: bool
    settings: dict[str, Any]


def decode_created(obj: dict[str, Any]) -> Created:
    """Check and decode a ``created`` record."""
    if obj.get("event") != "created":
        raise Bad(
            f"the first line must be a 'created' event, but it is {obj.get('event')!r}; "
            "is this a bayesopt journal?"
        )
    if obj.get("format") != FORMAT:
        raise Bad(f"`format` must be {FORMAT!r}, but got {obj.get('format')!r}")
    version = obj.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise Bad(f"journal version {version!r}; this bayesopt reads versions 1..{VERSION}")
    seed = _field(obj, "seed", (int,), "an int")
    settings = _field(obj, "settings", (dict,), "an object")
    return Created(
        optimizer=_field(obj, "optimizer", (str,), "a class name"),
        space=space_from_json(obj.get("space")),
        seed=seed,
        maximize=_field(obj, "maximize", (bool,), "a bool"),
        settings={k: _decode_setting(v) for k, v in settings.items()},
    )


# The file ------------------------------------------------------------------------------------
class Position(NamedTuple):
    """How far a process has read: bytes, complete lines, and whether the last line it read
    lacked its newline (a writer adds it before appending)."""

    offset: int
    lines: int
    unterminated: bool


def _dump(record: dict[str, Any], seq: int) -> bytes:
    """One line: the record, its line number ``seq`` and a CRC-32 of all the bytes before it."""
    body = json.dumps({**record, "seq": seq}, allow_nan=False, separators=(",", ":"))
    head = body[:-1].encode("ascii")
    return head + b',"crc":"%08x"}\n' % zlib.crc32(head)


def _damage(raw: bytes, obj: dict[str, Any]) -> str | None:
    """What is wrong with a parsed line's checksum, if anything (its bytes were changed)."""
    raw = raw.rstrip(b"\n")
    tail = raw[-18:]
    if not (tail.startswith(b',"crc":"') and tail.endswith(b'"}')) or "crc" not in obj:
        return "it has no checksum (`crc`)"
    try:
        crc = int(tail[8:16], 16)
    except ValueError:
        return "its checksum is not hexadecimal"
    if crc != zlib.crc32(raw[:-18]):
        return "its checksum does not match: the line was changed after it was written"
    return None


def _misplaced(obj: dict[str, Any], line: int) -> str | None:
    """What is wrong with an intact line's sequence number, if anything."""
    seq = obj.get("seq")
    if type(seq) is int and seq == line:
        return None
    if type(seq) is int and seq > line:
        return f"its sequence number is {seq}: {seq - line} line(s) before it are missing"
    return f"its sequence number is {seq!r}: it is repeated or out of place"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if type(obj) is dict else None


def _looks_torn(raw: bytes) -> bool:
    """Whether a garbled *first* line is what a crash while writing it leaves (so it is not
    some other file that must not be touched)."""
    body = raw.rstrip(b"\n")
    n = min(len(body), len(_TORN_PREFIX))
    return body[:n] == _TORN_PREFIX[:n] or body.strip(b"\0") == b""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """One process's handle on a journal file.

    Args:
        path: the journal file; a writable journal creates it (and its session folder).
        writable: ``False`` opens it read-only with a shared lock (``bayesopt.load``).

    Raises:
        OSError: the platform has no ``fcntl`` file locks (storage needs POSIX).
    """

    def __init__(self, path: str | os.PathLike, *, writable: bool) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise OSError("bayesopt storage needs POSIX file locks (fcntl), not available here.")
        self.path = Path(os.fspath(path))
        self.writable = writable
        self.pos = Position(0, 0, False)
        self.session: str | None = None
        self._fd: int | None = None
        self._session_fd: int | None = None
        self._dead: set[str] = set()
        self._pid = os.getpid()  # a forked child must not end its parent's session
        if writable:
            existed = self.path.exists()
            flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o644)
            try:
                if not existed:
                    _fsync_dir(self.path.parent)
                self._start_session()
            except BaseException:
                self.close()
                raise
        else:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)

    # Sessions -------------------------------------------------------------------------------
    @property
    def sessions_dir(self) -> Path:
        """The folder of the writers' liveness locks: ``<journal>.sessions``."""
        return self.path.with_name(self.path.name + ".sessions")

    def _start_session(self) -> None:
        folder = self.sessions_dir
        folder.mkdir(exist_ok=True)
        sid = uuid.uuid4().hex
        tmp = folder / f".{sid}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Locked before it is visible under its name: an unlocked session file is dead.
            os.rename(tmp, folder / sid)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._session_fd, self.session = fd, sid

    def is_alive(self, session: str | None) -> bool:
        """Whether the writer ``session`` still runs (its lock file is locked).

        ``None`` (no session known) counts as alive, so that nothing is taken over blindly.
        """
        if session is None or session == self.session:
            return True
        if session in self._dead:
            return False
        if not _SESSION.fullmatch(session):
            return True
        path = self.sessions_dir / session
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._dead.add(session)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        self._dead.add(session)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return False

    # Locking and reading ----------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's lock: exclusive for a writer, shared for a reader."""
        assert self._fd is not None, "journal is closed"
        fcntl.flock(self._fd, fcntl.LOCK_EX if self.writable else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def read_new(self) -> tuple[list[tuple[int, dict[str, Any]]], Position]:
        """Records appended since ``pos``, with their line numbers, and the position after
        them. Call with the lock held. Does not move ``pos``: the caller does, once it has
        applied the records.

        A torn or garbled last line is skipped with a ``JournalWarning``; a writer also cuts
        it off the file.

        Raises:
            JournalError: a line before the last does not parse, or the file shrank.
        """
        assert self._fd is not None, "journal is closed"
        offset, lines, unterminated = self.pos
        size = os.fstat(self._fd).st_size
        if size < offset:
            raise JournalError(
                f"{self.path} shrank to {size} bytes, below the {offset} already read: "
                "another program truncated or replaced it."
            )
        data = os.pread(self._fd, size - offset, offset)
        start = 0
        if unterminated and data[:1] == b"\n":
            start, unterminated = 1, False
        records: list[tuple[int, dict[str, Any]]] = []
        while start < len(data):
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline + 1
            raw = data[start:end]
            lines += 1
            obj = _parse(raw)
            damage = "not a JSON object" if obj is None else _damage(raw, obj)
            if damage is not None:
                # Only the last line can be torn by a crash. (A first line is only taken for
                # a torn one when it starts like a journal: another file is left alone.)
                if end == len(data) and (lines > 1 or _looks_torn(raw)):
                    self._skip_tail(offset + start, lines, len(raw))
                    return records, Position(offset + start, lines - 1, unterminated)
                raise JournalError(
                    f"{self.path}, line {lines}: {damage} ({raw[:60]!r}...). A crash can only "
                    "tear the last line; this one was changed by something else."
                )
            assert obj is not None
            misplaced = _misplaced(obj, lines)
            if misplaced is not None:
                raise JournalError(f"{self.path}, line {lines}: {misplaced}.")
            records.append((lines, obj))
            unterminated = newline < 0
            start = end
        return records, Position(offset + start, lines, unterminated)

    def _skip_tail(self, good_end: int, line: int, n_bytes: int) -> None:
        action = "skipped"
        if self.writable:
            assert self._fd is not None
            os.ftruncate(self._fd, good_end)
            os.fsync(self._fd)
            action = "removed"
        warnings.warn(
            f"{self.path}: {action} line {line} ({n_bytes} bytes), a torn or garbled last "
            "line, which is what a crash in the middle of a write leaves; every line before "
            "it was read.",
            JournalWarning,
            stacklevel=5,
        )

    # Writing ----------------------------------------------------------------------------------
    def append(self, records: list[dict[str, Any]]) -> Position:
        """Append records (lock held, after ``read_new`` reached the end), flush and fsync.

        On any error the file is cut back to where it was, so it holds all or none of them.

        Returns:
            The position after the new lines (the caller stores it in ``pos``).
        """
        assert self._fd is not None and self.writable, "journal is closed or read-only"
        offset, lines, unterminated = self.pos
        if os.fstat(self._fd).st_size != offset:
            raise RuntimeError(f"{self.path}: appending without having read to the end.")
        data = b"".join(_dump(r, lines + 1 + i) for i, r in enumerate(records))
        if unterminated:
            data = b"\n" + data
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, offset)
            raise
        return Position(offset + len(data), lines + len(records), False)

    def close(self) -> None:
        """Release the session (its pending trials become claimable) and the file."""
        if self._session_fd is not None:
            if os.getpid() == self._pid:
                with contextlib.suppress(OSError):
                    os.unlink(self.sessions_dir / str(self.session))
            os.close(self._session_fd)
            self._session_fd = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        mode = "writable" if self.writable else "read-only"
        return f"Journal({str(self.path)!r}, {mode}, lines={self.pos.lines})"


# Reading a study -----------------------------------------------------------------------------
def load(path: str | os.PathLike) -> Any:
    """Open a journal read-only, for analysis.

    Args:
        path: a journal written with ``storage=``.

    Returns:
        The study's optimiser (``Optimizer`` or ``RandomSearch``, with the journal's space,
        seed and settings) holding every trial as of now. ``trials``, ``best``,
        ``to_dataframe()`` and the rest work; ``ask``, ``tell``, ``add`` and ``enqueue``
        raise ``RuntimeError``.

    Raises:
        FileNotFoundError: there is no such file.
        JournalError: the file is not a journal, or is corrupt beyond a torn last line.

    Example:
        >>> import os, tempfile, bayesopt as bo
        >>> path = os.path.join(tempfile.mkdtemp(), "study.jsonl")
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0, storage=path)
        >>> _ = rs.tell(rs.ask(), 0.5)
        >>> bo.load(path).trials[0].value
        0.5
    """
    from bayesopt.asktell import AskTell

    journal = Journal(path, writable=False)
    try:
        with journal.locked():
            records, _ = journal.read_new()
    finally:
        journal.close()
    where = str(journal.path)
    if not records:
        raise JournalError(f"{where} holds no events: it is empty or not a bayesopt journal.")
    try:
        created = decode_created(records[0][1])
    except Bad as exc:
        raise JournalError(f"{where}, line {records[0][0]}: {exc}.") from None
    cls = _find_class(AskTell, created.optimizer)
    if cls is None:
        raise JournalError(
            f"{where}: the study was made by {created.optimizer}, which is not imported; "
            "import the module that defines it first."
        )

    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in created.settings.items() if k in accepted}
    opt = cls(created.space, seed=created.seed, maximize=created.maximize, **kwargs)
    state = opt._replay(records[1:], where, ([], [], {}))
    opt._trials, opt._queue, opt._owners = state
    opt._storage = where
    opt._read_only = "was opened read-only by bayesopt.load()"
    return opt


def _find_class(base: type, name: str) -> type | None:
    module = name.partition(":")[0]
    if module == "bayesopt" or module.startswith("bayesopt."):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    todo = [base]
    while todo:
        cls = todo.pop()
        if f"{cls.__module__}:{cls.__qualname__}" == name:
            return cls
        todo.extend(cls.__subclasses__())
    return None
