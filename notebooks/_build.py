"""Build the teaching notebooks from their reviewable sources, and run them.

Each notebook is written as a plain Python file in ``notebooks/src/`` in the "percent"
format (as Jupytext and VS Code read it):

    # %% [markdown]
    # # A title
    # Some text with maths, $k(x, x')$.

    # %%
    x = 1  # a code cell

This script turns ``src/NN_name.py`` into ``NN_name.ipynb``, executes it top to bottom
(a full run: ``SMOKE_TEST`` is removed from the kernel's environment) with the notebook
folder as working directory, and writes it with its outputs. Usage, from the repository
root:

    .venv/bin/python notebooks/_build.py                  # every source
    .venv/bin/python notebooks/_build.py 01 02            # names starting with these
    .venv/bin/python notebooks/_build.py --no-execute 04  # structure only, no outputs
    .venv/bin/python notebooks/_build.py --smoke 04       # quick check, writes nothing

The test suite (``tests/test_notebooks.py``) executes the committed ``.ipynb`` files with
``SMOKE_TEST=1`` in memory and never writes them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
MARKDOWN = "# %% [markdown]"
CODE = "# %%"


def parse(text: str) -> list[nbformat.NotebookNode]:
    """Cells of a percent-format source (text before the first marker is dropped)."""
    cells: list[nbformat.NotebookNode] = []
    kind, lines = None, []

    def flush() -> None:
        if kind is None:
            return
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            body = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines)
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif lines:
            cells.append(nbformat.v4.new_code_cell("\n".join(lines)))

    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped == MARKDOWN or stripped == CODE:
            flush()
            kind, lines = ("markdown" if stripped == MARKDOWN else "code"), []
        else:
            lines.append(line)
    flush()
    return cells


def build(source: Path) -> nbformat.NotebookNode:
    """A notebook (no outputs) from one source file."""
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(source.read_text(encoding="utf-8"))
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
    nbformat.validate(nb)
    return nb


class _ThisInterpreter(KernelSpecManager):
    """Every kernel name resolves to an ipykernel on ``sys.executable``."""

    env: dict[str, str] = {}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
            env=self.env,
        )


def execute(nb: nbformat.NotebookNode, *, smoke: bool, timeout: int = 1800) -> None:
    """Run ``nb`` in place, in a fresh kernel with the notebook folder as cwd."""
    spec = _ThisInterpreter()
    spec.env = {"OMP_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if smoke:
        spec.env |= {"SMOKE_TEST": "1", "MPLBACKEND": "Agg"}
    saved = os.environ.pop("SMOKE_TEST", None)
    try:
        km = KernelManager(kernel_name="python3", kernel_spec_manager=spec)
        NotebookClient(
            nb, km=km, timeout=timeout, record_timing=False,
            resources={"metadata": {"path": str(HERE)}},
        ).execute()
    finally:
        if saved is not None:
            os.environ["SMOKE_TEST"] = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="prefixes of the sources to build")
    parser.add_argument("--no-execute", action="store_true", help="write without outputs")
    parser.add_argument("--smoke", action="store_true", help="run with SMOKE_TEST=1, write nothing")
    args = parser.parse_args(argv)
    sources = sorted(SRC.glob("*.py"))
    if args.names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in args.names)]
    if not sources:
        parser.error("no matching sources in notebooks/src/")
    for source in sources:
        nb = build(source)
        start = time.perf_counter()
        if not args.no_execute:
            execute(nb, smoke=args.smoke)
        took = time.perf_counter() - start
        if args.smoke:
            print(f"{source.stem}: smoke run ok in {took:.0f} s (nothing written)")
            continue
        out = HERE / f"{source.stem}.ipynb"
        nbformat.write(nb, out)
        print(f"{out.name}: {out.stat().st_size / 1e6:.2f} MB, executed in {took:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
