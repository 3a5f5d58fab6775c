"""The repository's text stands on its own.

Source, documentation and result files should not point at work items of a tracker, at
documents that are not in the repository, or describe the machine they were written on as
if it were the reader's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SELF = Path(__file__).resolve()

SUFFIXES = {".py", ".md", ".toml", ".sh", ".log"}
NAMES = {"Makefile"}

FORBIDDEN = re.compile(
    r"\bissue \d+"
    r"|ANCHORS\.md"
    r"|full[ ]issue settings"
    r"|this 2-core machine"
    r"|these machines'",
    re.IGNORECASE,
)


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None:
        pytest.skip("git is not available")
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
    except OSError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"git could not be run: {exc}")
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    names = [n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n]
    return [ROOT / n for n in names]


def _is_text_file(path: Path) -> bool:
    return path.suffix in SUFFIXES or path.name in NAMES


def test_no_references_to_work_items_or_missing_documents() -> None:
    hits = []
    for path in _tracked_files():
        if not _is_text_file(path) or path.resolve() == SELF or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in FORBIDDEN.finditer(line):
                rel = path.relative_to(ROOT).as_posix()
                hits.append(f"{rel}:{number}: {match.group(0)!r}: {line.strip()[:120]}")
    assert not hits, "text that refers to work items or absent documents:\n" + "\n".join(hits)
