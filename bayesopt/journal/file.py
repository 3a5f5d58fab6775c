"""The journal file: lines with sequence numbers and checksums, locks and sessions.

A ``Journal`` is one process's handle on the file. It reads the records other processes
appended (``read_new``), appends its own in one write, fsynced (``append``), takes the
file's ``flock`` (``locked``) and holds a session: a locked file in ``<journal>.sessions/``
that tells others whether this writer still runs (``is_alive``).

The file is known by its real path (symbolic links and relative paths resolved), so every
writer finds the same sessions folder. A writer refuses a file with more than one hard link
(their names would have separate sessions folders, and a live writer could be taken for a
dead one), and anything but a regular file.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
import uuid
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from bayesopt.journal.records import SESSION

__all__ = ["Journal", "JournalError", "JournalWarning", "Position", "Storage", "dump_line"]

_TMP_GRACE = 60.0
"""Seconds after which an unlocked, unnamed session file is a crash's leftover."""


class JournalError(ValueError):
    """A journal is corrupt beyond a torn last line; the message names the line."""


class JournalWarning(UserWarning):
    """A torn or garbled last line (what a crash mid-write leaves) was skipped."""


@dataclass(frozen=True)
class Storage:
    """Where a study is journalled, with the options of the file's lock.

    ``storage="study.jsonl"`` is short for ``storage=Storage("study.jsonl")``.

    Args:
        path: the journal file.
        lock_timeout: seconds to wait for the journal's lock before raising
            ``TimeoutError``; ``None`` waits as long as it takes. Every change takes the
            lock for the time of one read and one append (and an ask for its proposal), so
            a long wait means a writer is stopped (``SIGSTOP``, a debugger) or hung.

    Example:
        >>> Storage("study.jsonl", lock_timeout=30).lock_timeout
        30.0
    """

    path: str | os.PathLike
    lock_timeout: float | None = None

    def __post_init__(self) -> None:
        path = self.path
        if not isinstance(path, str | os.PathLike) or not os.fspath(path):
            raise TypeError(f"Storage: `path` must be a non-empty path, but got {path!r}.")
        if not isinstance(os.fspath(path), str):
            raise TypeError(f"Storage: `path` must be a str path, not bytes: {path!r}.")
        timeout = self.lock_timeout
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise TypeError(
                    f"Storage: `lock_timeout` must be a number of seconds or None, but got "
                    f"{timeout!r}."
                )
            if not timeout >= 0:
                raise ValueError(f"Storage: `lock_timeout` must be >= 0, but got {timeout!r}.")
            object.__setattr__(self, "lock_timeout", float(timeout))
        object.__setattr__(self, "path", os.fspath(path))


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
        writable: ``False`` opens it read-only, reading without any lock
            (``bayesopt.load``).
        lock_timeout: seconds ``locked`` waits for the lock before ``TimeoutError``;
            ``None`` waits as long as it takes.

    Raises:
        ValueError: ``path`` is not a regular file (a device, a folder, a pipe), or a
            writable journal has more than one hard link.
        OSError: the platform has no ``fcntl`` file locks (storage needs POSIX).
    """

    def __init__(
        self, path: str | os.PathLike, *, writable: bool, lock_timeout: float | None = None
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise OSError("bayesopt storage needs POSIX file locks (fcntl), not available here.")
        self.path = Path(os.fspath(path))
        self.real = Path(os.path.realpath(self.path))
        self.writable = writable
        self.lock_timeout = lock_timeout
        self.pos = Position(0, 0, False)
        self.session: str | None = None
        self._fd: int | None = None
        self._session_fd: int | None = None
        self._dead: set[str] = set()
        self._pid = os.getpid()  # a forked child reopens the file (see ``forked``)
        with contextlib.suppress(FileNotFoundError):
            self._check_file(os.stat(self.real))
        if writable:
            existed = self.real.exists()
            flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._fd = os.open(self.real, flags, 0o644)
            try:
                self._check_file(os.fstat(self._fd))
                if not existed:
                    _fsync_dir(self.real.parent)
                self._start_session()
            except BaseException:
                self.close()
                raise
        else:
            self._fd = os.open(self.real, os.O_RDONLY | os.O_CLOEXEC)
            try:
                self._check_file(os.fstat(self._fd))
            except BaseException:
                self.close()
                raise
        self._identity = _identity(os.fstat(self._fd))

    def _check_file(self, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(
                f"`storage` must be a regular file, but {str(self.path)!r} is {_kind(st.st_mode)}."
            )
        if self.writable and st.st_nlink > 1:
            raise ValueError(
                f"`storage` {str(self.path)!r} has {st.st_nlink} hard links. A journal's "
                "writers find each other through its path, and each name of a hard-linked "
                "file has its own: open it through one name (a symbolic link is fine), or "
                "copy it. Reading it with bayesopt.load() works."
            )

    # Processes --------------------------------------------------------------------------------
    def forked(self) -> bool:
        """Whether this handle was inherited through ``fork()``: the child shares the
        parent's file description, and so its locks; it must ``reopen`` before any change."""
        return os.getpid() != self._pid

    def reopen(self) -> Journal:
        """This journal for a forked child: a new file description, lock and session, at
        the same position. The inherited descriptors are closed (the parent keeps its own).

        Raises:
            JournalError: the path no longer names the file the parent had open.
        """
        new = Journal(self.real, writable=self.writable, lock_timeout=self.lock_timeout)
        new.path = self.path
        if new._identity != self._identity:
            new.close()
            raise JournalError(
                f"{self.path} was replaced by another file since this study opened it."
            )
        new.pos = self.pos
        self.close()
        return new

    # Sessions -------------------------------------------------------------------------------
    @property
    def sessions_dir(self) -> Path:
        """The folder of the writers' liveness locks: ``<journal>.sessions`` beside the
        file's real path."""
        return self.real.with_name(self.real.name + ".sessions")

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
        self._remove_dead_sessions()

    def _remove_dead_sessions(self) -> None:
        """Delete the session files of writers that died without closing (SIGKILL, a crash),
        so they do not pile up. A pending trial of a deleted session is claimable as before."""
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.sessions_dir):
                name = entry.name
                if name == self.session:
                    continue
                if name.startswith(".") and name.endswith(".tmp"):
                    # A writer locks its session file right after creating it: only an old
                    # one is a leftover of a crash.
                    if time.time() - entry.stat().st_mtime < _TMP_GRACE:
                        continue
                elif not SESSION.fullmatch(name):
                    continue
                if not _locked_by_someone(entry.path):
                    self._dead.add(name)
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

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
        if _locked_by_someone(path):
            return True
        self._dead.add(session)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return False

    # Locking and reading ----------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's exclusive lock (a writer's; readers take none).

        Raises:
            TimeoutError: the lock was not free within ``lock_timeout`` seconds.
        """
        assert self._fd is not None and self.writable, "journal is closed or read-only"
        if self.lock_timeout is None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        else:
            self._lock_before(time.monotonic() + self.lock_timeout)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _lock_before(self, deadline: float) -> None:
        assert self._fd is not None
        pause = 0.001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{self.path}: another process held the journal's lock for more "
                        f"than lock_timeout={self.lock_timeout:g} s; a writer may be stopped "
                        "(SIGSTOP, a debugger) or hung. bayesopt.load() reads it without the "
                        "lock."
                    ) from None
                time.sleep(min(pause, left))
                pause = min(2 * pause, 0.05)

    def read_new(self) -> tuple[list[tuple[int, dict[str, Any]]], Position]:
        """Records appended since ``pos``, with their line numbers, and the position after
        them. A writer calls it with the lock held. Does not move ``pos``: the caller does,
        once it has applied the records.

        A torn or garbled last line is skipped with a ``JournalWarning``; a writer also cuts
        it off the file. A garbled *first* line never is: a file that does not start with a
        whole line is not taken for a journal, and is left alone.

        Raises:
            JournalError: a line before the last, or the first, does not parse, or the file
                shrank.
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
                # Only the last line can be torn by a crash; a file whose first line is not
                # whole is not a journal (or lost its header): it is never written to.
                if end == len(data) and lines > 1:
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
            "line, which is what a crash in the middle of a write leaves (or, for a reader, "
            "a write in progress); every line before it was read.",
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
        """Release the session (its pending trials become claimable) and the file. In a
        forked child, only the inherited descriptors are closed."""
        if self._session_fd is not None:
            if not self.forked():
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


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe"),
             (stat.S_ISSOCK, "a socket")]  # fmt: skip
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def _locked_by_someone(path: str | os.PathLike) -> bool:
    """Whether the session file ``path`` is locked, by another process or file description.
    A missing file is not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
