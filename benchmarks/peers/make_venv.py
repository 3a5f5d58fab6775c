"""Create the side virtual environment of a peer that cannot share ``.venv``'s pins.

Usage, from the repository root::

    python benchmarks/peers/make_venv.py hebo        # creates .venv-hebo/ (git-ignored)
    python benchmarks/peers/make_venv.py hebo --dry-run

HEBO's current release pins numpy below 1.25, which the main environment (numpy 2) cannot
take. Its side environment gets HEBO and the same torch version as the main environment
(a CPU wheel where pip's configuration provides one), and nothing of bayesopt: the
benchmark talks to it through ``benchmarks/peers/serve.py``, a standalone script that speaks
JSON lines over standard input and output (``benchmarks.peers.subprocess_session``).
Plain standard library; run it with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REQUIREMENTS: dict[str, tuple[str, ...]] = {
    # Upper bounds that keep pip's resolver from walking back through every release built
    # for numpy 2 (the last ones that still took numpy 1.24).
    "hebo": (
        "hebo==0.3.6",
        "numpy<1.25",
        "pandas<2.1",
        "scipy<1.12",
        "scikit-learn<1.4",
        "matplotlib<3.8",
        "contourpy<1.3",
        "gpy<1.14",
        "catboost<1.3",
    ),
}
"""Pip requirements of each side environment (torch is added, pinned to the main one's)."""


def _torch() -> tuple[str, ...]:
    try:
        version = importlib.metadata.version("torch").split("+")[0]
    except importlib.metadata.PackageNotFoundError:
        return ("torch",)
    return (f"torch=={version}",)


def venv_dir(name: str) -> Path:
    """``.venv-<name>`` at the repository root."""
    return ROOT / f".venv-{name}"


def main(argv: list[str] | None = None) -> int:
    """Create (or update) ``.venv-<name>`` and install the peer's requirements into it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", choices=sorted(REQUIREMENTS), help="the peer")
    parser.add_argument("--dry-run", action="store_true", help="only show what pip would do")
    args = parser.parse_args(argv)
    folder = venv_dir(args.name)
    if not (folder / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=False).create(folder)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install"]
    pip += ["--dry-run"] if args.dry_run else []
    cmd = [*pip, *REQUIREMENTS[args.name], *_torch()]
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
