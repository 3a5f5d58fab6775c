"""Resuming a study from its journal: records into a history, and the header's checks.

The ask/tell front uses these when it opens a journal, and ``bayesopt.load`` when it reads
one; they know the journal's records and a proposer's identity (a ``Header``), never the
proposer itself.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator

from bayesopt.events import Event, EventError
from bayesopt.history import History, replay
from bayesopt.journal import Header, JournalError, Storage, decode_event, decode_header
from bayesopt.space import Space

__all__ = [
    "check_header",
    "check_storage",
    "class_name",
    "find_class",
    "read_header",
    "replay_records",
]


def check_storage(storage: object) -> Storage | None:
    """``storage`` as a ``Storage``, or ``None``.

    Raises:
        TypeError: ``storage`` is neither a path, a ``Storage`` nor ``None``.
        ValueError: ``storage`` is empty.
    """
    if storage is None or isinstance(storage, Storage):
        return storage
    if not isinstance(storage, str | os.PathLike):
        raise TypeError(
            "`storage` must be a path (str or os.PathLike), a bayesopt.Storage or None, but "
            f"got {storage!r}."
        )
    path = os.fspath(storage)
    if not isinstance(path, str) or not path:
        raise ValueError(f"`storage` must be a non-empty path, but got {storage!r}.")
    return Storage(path)


def replay_records(
    records: list[tuple[int, dict]], space: Space, where: str, state: History
) -> History:
    """Decode journal records (with their line numbers) and apply them to ``state``.

    Raises:
        JournalError: a record does not decode or does not fit the history; the message
            names ``where`` and the line.
    """
    line = 0

    def events() -> Iterator[Event]:
        nonlocal line
        for line, obj in records:  # noqa: B007 - the line of a failure is read below
            yield decode_event(obj, space)

    try:
        return replay(state, events())
    except EventError as exc:
        raise JournalError(f"{where}, line {line}: {exc}.") from None


def read_header(first: tuple[int, dict], where: str) -> Header:
    """The header of a journal's first record.

    Raises:
        JournalError: the record is not a ``created`` event this code reads.
    """
    try:
        return decode_header(first[1])
    except EventError as exc:
        raise JournalError(f"{where}, line {first[0]}: {exc}.") from None


def check_header(header: Header, mine: Header, where: str, *, seed_given: bool) -> None:
    """Check that a journal's ``header`` describes the study of the proposer ``mine``.

    The seed is compared only when ``seed_given``; settings only where both have them,
    except the pruner and the outcomes (``objectives``, ``constraints``,
    ``reference_point``), which both must have or lack; a journal without
    ``failure_model`` has the default, ``"impute"``.

    Raises:
        ValueError: the class, space, seed, maximize or a setting differs (named).
    """
    if header.optimizer != mine.optimizer:
        raise ValueError(
            f"{where} holds a study of {header.optimizer}, not of {mine.optimizer}; open it "
            "with that class, or read it with bayesopt.load()."
        )
    if header.space != mine.space:
        raise ValueError(
            f"`space` differs from the space of the study in {where} "
            f"({_space_diff(header.space, mine.space)}); a study resumes only with the "
            "space it was created with."
        )
    if seed_given and header.seed != mine.seed:
        raise ValueError(
            f"`seed={mine.seed}` differs from the seed of the study in {where} "
            f"({header.seed}); pass seed=None (or that seed) to resume it."
        )
    if header.maximize != mine.maximize:
        raise ValueError(
            f"`maximize={mine.maximize}` differs from the study in {where} "
            f"(maximize={header.maximize})."
        )
    diffs = [
        f"{k}={v!r} in the journal but {mine.settings[k]!r} here"
        for k, v in header.settings.items()
        if k in mine.settings and v != mine.settings[k]
    ]
    theirs, ours = header.settings.get("pruner"), mine.settings.get("pruner")
    if (theirs is None) != (ours is None):  # a study is pruned by one rule throughout
        diffs.append(f"pruner={theirs!r} in the journal but {ours!r} here")
    for key in ("objectives", "constraints", "reference_point"):  # the same outcomes throughout
        theirs, ours = header.settings.get(key), mine.settings.get(key)
        if (theirs is None) != (ours is None):
            diffs.append(f"{key}={theirs!r} in the journal but {ours!r} here")
    theirs = header.settings.get("failure_model", "impute")  # absent: the default
    ours = mine.settings.get("failure_model", "impute")
    both = "failure_model" in header.settings and "failure_model" in mine.settings
    if theirs != ours and not both:  # when both have it, it was compared above
        diffs.append(f"failure_model={theirs!r} in the journal but {ours!r} here")
    if diffs:
        raise ValueError(
            f"the settings differ from the study in {where}: {'; '.join(diffs)}. Pass the "
            "same settings to resume it (or read it with bayesopt.load())."
        )


def _space_diff(a: Space, b: Space) -> str:
    """What differs between two spaces, in words."""
    if a.names != b.names:
        return f"parameters {a.names} in the journal, {b.names} here"
    diffs = [f"{k}: {a[k]!r} in the journal, {b[k]!r} here" for k in a.names if a[k] != b[k]]
    return "; ".join(diffs)


def class_name(cls: type) -> str:
    """How a journal names a proposer's class: ``"module:qualname"``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def find_class(base: type, name: str) -> type | None:
    """The imported subclass of ``base`` (or ``base``) called ``name``; a bayesopt module
    is imported first, no other."""
    module = name.partition(":")[0]
    if module == "bayesopt" or module.startswith("bayesopt."):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    todo = [base]
    while todo:
        cls = todo.pop()
        if class_name(cls) == name:
            return cls
        todo.extend(cls.__subclasses__())
    return None
