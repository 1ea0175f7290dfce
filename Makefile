PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORTICO_HOST ?= 127.0.0.1
PORTICO_PORT ?= 4566

.PHONY: up test bench lint install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

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
