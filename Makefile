# Ferry developer entry points. Everything a target needs is installed by the target itself.
#   make dev    run the local stack (MiniStack + the deployed template) in the foreground
#   make test   the whole suite: lint, types, unit, integration, template checks, e2e on MiniStack
#   make bench  benchmarks; prints a table and writes bench/results.json
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install tools lint typecheck test test-fast dev bench build clean

$(BIN)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(TOOLS)/ministack/.installed: local/requirements-ministack.txt
	$(PYTHON) -m venv $(TOOLS)/ministack
	$(TOOLS)/ministack/bin/pip install --quiet -r $<
	touch $@

$(TOOLS)/sam/.installed: local/requirements-sam.txt
	$(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install --quiet -r $<
	touch $@

install: $(BIN)/.installed
tools: $(TOOLS)/ministack/.installed $(TOOLS)/sam/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions tests bench local

typecheck: install
	$(BIN)/mypy

test-fast: install tools
	$(BIN)/pytest tests/unit tests/integration

test: install tools lint typecheck
	$(BIN)/pytest

dev: install tools
	$(BIN)/python -m local.dev

bench: install tools
	$(BIN)/python -m bench

build: tools
	$(TOOLS)/sam/bin/sam build

clean:
	rm -rf .aws-sam .local-stack .pytest_cache .mypy_cache .ruff_cache
