# Two commands matter: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck pytest bench install dev clean openapi fuzz

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

# After a reviewed API change: refresh the OpenAPI snapshot the contract test compares with.
openapi: install
	$(BIN)/python -m switchyard.api.openapi > tests/fixtures/openapi.json

# The fuzz stage alone (it also runs inside `make test`), with its figures printed.
fuzz: dev
	$(BIN)/pytest -q -s tests/fuzz

bench: dev
	$(BIN)/python -m tests.benchmarks

clean:
	rm -rf $(VENV) .switchyard .mypy_cache .ruff_cache .pytest_cache
