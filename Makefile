# billing-gateway: `make run` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help run test lint format typecheck pytest bench cassettes screenshots clean zuora-sdk

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "billing-gateway needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(APP_STAMP)

run: $(APP_STAMP) ## install, start the embedded database (unless DATABASE_URL), migrate, seed, serve
	$(BIN)/billing-gateway run

test: lint typecheck pytest ## install dev tools, then lint, type-check and run every test

lint: $(DEV_STAMP) ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(DEV_STAMP) ## mypy --strict
	$(BIN)/mypy

pytest: $(DEV_STAMP) ## the test suite (unit, integration, contract, browser)
	$(BIN)/pytest

zuora-sdk: $(DEV_STAMP) ## Zuora's Python SDK in its own venv (.venv-zuora-sdk), for the contract test
	$(BIN)/python -c 'from tests.zuora_sdk import sdk_python; print(sdk_python())'

bench: $(DEV_STAMP) ## performance figures side by side (see the README, Tests and benchmarks)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/back_office.py
	$(BIN)/python bench/zuora_adapter.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/fraud_matcher.py
	$(BIN)/python bench/fraud_screening.py
	$(BIN)/python bench/apply.py
	$(BIN)/python bench/cheques.py

cassettes: $(DEV_STAMP) ## re-record the provider cassettes the tests replay (from the emulators)
	$(BIN)/python -m tests.remote.record_emulator_cassettes

screenshots: $(DEV_STAMP) ## refresh docs/screenshots from the browser tests (needs Chromium)
	BG_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/browser

clean: ## remove the virtual environment and the sandbox data (database, keys)
	rm -rf $(VENV) .venv-zuora-sdk .venv-zuora-sdk.lock .data .artifacts .mypy_cache .ruff_cache .pytest_cache .hypothesis
