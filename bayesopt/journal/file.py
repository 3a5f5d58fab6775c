"""The journal file: lines with sequence numbers and checksums, locks and sessions.

A ``Journal`` is one process's handle on the file. It reads the records other processes
appended (``read_new``), appends its own in one write, fsynced (``append``), takes the
file's ``flock`` (``locked``) and holds a session: a locked file in ``<journal>.sessions/``
that tells others whether this writer still runs (``is_alive``).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from bayesopt.journal.records import SESSION

__all__ = ["Journal", "JournalError", "JournalWarning", "Position", "dump_line"]

_TORN_PREFIX = b'{"event":"'


class JournalError(ValueError):
    """A journal is corrupt beyond a torn last line; the message names the line."""


class JournalWarning(UserWarning):
    """A torn or garbled last line (what a crash mid-write leaves) was skipped."""


# Lines ------------------------------------------------------------------------------------
class Position(NamedTuple):
    """How far a process has read: bytes, complete lines, and whether the last line it read
    lacked its newline (a writer adds it before appending)."""

    offset: int
    lines: int
    unterminated: bool


def dump_line(record: dict[str, Any], seq: int) -> bytes:
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
        if not SESSION.fullmatch(session):
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
        data = b"".join(dump_line(r, lines + 1 + i) for i, r in enumerate(records))
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
