# Two commands matter: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck pytest bench chaos install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/switchyard demo

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev
	$(BIN)/mypy

pytest: dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q tests --ignore=tests/benchmarks

test: lint typecheck pytest

bench: dev
	$(BIN)/python -m tests.benchmarks

# The chaos suite at full size (`make test` runs it small): kills workers, the API, Redis and
# PostgreSQL of its own and prints each case's counts (also appended to $(CHAOS_REPORT)).
CHAOS_REPORT ?= /tmp/switchyard-chaos.jsonl
chaos: dev
	rm -f $(CHAOS_REPORT)
	CHAOS_FULL=1 CHAOS_REPORT=$(CHAOS_REPORT) $(BIN)/pytest -q tests/chaos
	cat $(CHAOS_REPORT)

clean:
	rm -rf $(VENV) .switchyard .mypy_cache .ruff_cache .pytest_cache
