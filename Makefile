# Two entry points: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch: the first install tries the pinned TORCH_PIN, then falls back to whatever torch the
# package index offers. Which build arrives is the index's choice: on Linux, PyPI's torch
# is a CUDA build (several GB); on macOS and Windows it runs on the CPU. For the CPU-only
# wheel on Linux, take it from PyTorch's own index:
#   make TORCH_INDEX=https://download.pytorch.org/whl/cpu demo
# (or .../whl/cuXYZ for a given CUDA version). A torch already in .venv is kept.
TORCH_PIN   ?= torch==2.13.0
TORCH_INDEX ?=
TORCH_FROM  := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
# What `make test` installs (every extra whose code the tests exercise).
TEST_EXTRAS := test,examples,bench,dask,docs,sklearn,optuna,ray

.PHONY: demo test test-fast lint docs docs-serve notebooks clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_FROM) "$(TORCH_PIN)" || $(PIP) install --quiet $(TORCH_FROM) torch

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[examples]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.demo-installed $(VENV)/.docs-installed

$(VENV)/.docs-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[docs]"
	touch $@

$(VENV)/.notebooks-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[notebooks]"
	touch $@

venv: $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) examples/quickstart.py

test: $(VENV)/.test-installed
	$(PY) -m pytest

test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -m "not slow"

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

# The documentation site, built strictly (a warning is an error) into site/.
docs: $(VENV)/.docs-installed
	$(PY) -m mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.docs-installed
	$(PY) -m mkdocs serve

# The teaching notebooks in JupyterLab, with .venv as their kernel.
notebooks: $(VENV)/.notebooks-installed
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis site .cache
