"""Append-only journal: persist a study, resume it, share it between processes.

``Optimizer(space, storage="study.jsonl")`` records every change of the study as one JSON
line, written, flushed and fsynced before the call returns:

========== ==============================================================================
event      fields (besides ``"event"`` and ``"time"``, the Unix time of the write)
========== ==============================================================================
created    ``format``, ``version``, ``optimizer`` (class), ``space``, ``seed``,
           ``maximize``, ``settings`` (the proposer's ``settings()``)
asked      ``trials`` (``id``, ``params``, ``source`` each, and ``budget`` when the ask
           set one), ``dequeued`` (how many came from the queue), ``session`` (the
           writer that asked them)
told       ``id``, ``value``; in a study that declares outcomes also ``values``
           (``{name: value}``, every outcome) and ``feasible`` (``null`` without
           constraints), with ``value`` ``null`` when there are several objectives
failed     ``id``, ``error`` (``"TypeName: message"`` or ``null``)
added      ``id``, ``params``, ``value`` (``null`` when failed), ``error``, and, with
           declared outcomes, ``values`` and ``feasible`` as in ``told``
enqueued   ``params``
claimed    ``ids``, ``session``: pending trials whose writer died, taken over by another
reported   ``id``, ``step``, ``value``: an intermediate value of a pending trial
pruned     ``id``, ``error``: a pending trial stopped early (``error`` ``null`` when its
           pruner decided, else why: a non-finite intermediate value)
========== ==============================================================================

A study that declares objectives or constraints keeps them in ``settings``
(``objectives``: ``(name, direction)`` pairs; ``constraints``: ``(name, op, bound)``
triples) and is written as version 2; any other study as version 1, which this code still
reads (and writes), so older releases read it too.

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

The package knows events, never optimisers: ``records`` turns events, values and the header
into JSON-able dicts and back, ``file`` turns them into lines and owns the file, its locks
and the sessions. It imports nothing of bayesopt but ``space``, ``trial`` and ``events``.
"""

from bayesopt.journal.file import (
    Journal,
    JournalError,
    JournalWarning,
    Position,
    Storage,
    dump_line,
)
from bayesopt.journal.records import (
    FORMAT,
    VERSION,
    Header,
    decode_event,
    decode_header,
    decode_value,
    encode_event,
    encode_header,
    encode_value,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "Header",
    "Journal",
    "JournalError",
    "JournalWarning",
    "Position",
    "Storage",
    "decode_event",
    "decode_header",
    "decode_value",
    "dump_line",
    "encode_event",
    "encode_header",
    "encode_value",
]
