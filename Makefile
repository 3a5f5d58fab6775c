# Two entry points: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Prefer the CPU wheel of torch (a pinned version, when the package index or a local wheel
# cache has it); where it is not available, pip falls back to whatever torch the index offers.
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test test-fast lint clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_PIN)" || $(PIP) install --quiet torch

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[examples]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[test,examples,bench,dask]"
	touch $@ $(VENV)/.demo-installed

venv: $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) examples/quickstart.py

test: $(VENV)/.test-installed
	$(PY) -m pytest

test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -m "not slow"

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
