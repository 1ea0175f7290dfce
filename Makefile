# The CPython >= 3.11 here that runs Python fastest (see scripts/fastest-python); asked only
# when .venv is made. `make PYTHON=python3.12 ...` chooses one.
PYTHON ?= $(shell scripts/fastest-python)
VENV := .venv
BIN := $(VENV)/bin
PORTICO_HOST ?= 127.0.0.1
PORTICO_PORT ?= 4566

.PHONY: up test bench lint install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# An editable install compiles nothing: compile src as a regular install would, or every
# start compiles it again where bytecode is not written (PYTHONDONTWRITEBYTECODE).
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q src

dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q src

up: install
	$(BIN)/portico up --host $(PORTICO_HOST) --port $(PORTICO_PORT)

test: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .portico bench/results/latest.jsonl
