"""Every teaching notebook runs top to bottom with small budgets (``SMOKE_TEST=1``).

Each ``notebooks/*.ipynb`` is read into memory and executed there by nbclient, in a
kernel started from this interpreter (not whatever ``python3`` kernel a user's Jupyter
set-up might resolve to), with the notebook folder as working directory, the Agg
backend and one thread. The committed file is never written. A second, fast check reads
the committed files: they carry the outputs of one full top-to-bottom run, without
errors, and stay small. By convention each notebook prints ``SMOKE_TEST is on`` in smoke
mode, so a file committed from a smoke run is caught.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SOURCES = sorted((NOTEBOOK_DIR / "src").glob("*.py"))
CELL_TIMEOUT_S = 300
MAX_BYTES = 2_000_000
SMOKE_ENV = {
    "SMOKE_TEST": "1",
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


class _ThisInterpreter(KernelSpecManager):
    """Resolves every kernel name to an ipykernel running on ``sys.executable``."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python ({sys.executable})",
            language="python",
            env=SMOKE_ENV,
        )


def _ids(path: Path) -> str:
    return path.name


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs_in_smoke_mode(path: Path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    for cell in nb.cells:  # start from a clean copy: no stale outputs can hide an error
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisInterpreter())
    client = nbclient.NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        # nbclient shuts down only the kernels it creates; a kernel left running keeps its
        # ZeroMQ sockets open, and pytest then hangs at exit.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the notebook was rewritten"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_committed_notebook_has_outputs_of_one_full_run(path: Path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not one top-to-bottom run"
    )
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error output"
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    assert "SMOKE_TEST is on" not in text, f"{path.name} was committed from a smoke run"
    assert any(c.cell_type == "markdown" for c in nb.cells)


def _control_characters(text: str) -> list[str]:
    """Code points of the control characters in ``text`` other than newline and tab."""
    found = {c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"}
    return sorted(f"U+{ord(c):04X}" for c in found)


def test_control_character_check_catches_an_escape_gone_wrong():
    assert _control_characters("$\\beta$ and\ttabs\n") == []
    assert _control_characters("$\beta$") == ["U+0008"]  # the slip: a backspace, then "eta"
    assert _control_characters("a\r\nb\x1b[0m") == ["U+000D", "U+001B"]


@pytest.mark.parametrize("path", SOURCES + NOTEBOOKS, ids=_ids)
def test_notebook_sources_have_no_control_characters(path: Path):
    """``"\\beta"`` in a non-raw string is a backspace and "eta": such characters render
    as garbage, so neither the sources nor the built notebooks' cells may hold any."""
    if path.suffix == ".ipynb":
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        texts = {f"cell {i}": cell.source for i, cell in enumerate(nb.cells)}
    else:
        texts = {"source": path.read_text(encoding="utf-8")}
    bad = {where: found for where, text in texts.items() if (found := _control_characters(text))}
    assert not bad, f"{path.name}: control characters {bad}"
