# billing-gateway: `make run` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
PIP    := $(BIN)/python -m pip
# Exact versions with their hashes, resolved from pyproject.toml's ranges by `make lock`:
# app (the image), sandbox (`make run`: plus the embedded PostgreSQL), dev (`make test`).
APP_LOCK     := requirements/app.lock
SANDBOX_LOCK := requirements/sandbox.lock
DEV_LOCK     := requirements/dev.lock
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet
COMPILE := $(BIN)/uv pip compile pyproject.toml $(LOCK_OPTIONS)
# The image's wheel build (hatchling), hash-checked as well.
BUILD_COMPILE := $(BIN)/uv pip compile requirements/build.in $(LOCK_OPTIONS)

.DEFAULT_GOAL := help
.PHONY: help run test lint format typecheck pytest bench cassettes screenshots clean zuora-sdk lock upgrade messages migration

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "billing-gateway needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml $(SANDBOX_LOCK) | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(SANDBOX_LOCK)
	$(PIP) install --quiet --no-deps -e .
	@touch $@

# The fraud matcher's C screen, compiled again when its source changes (the install compiles it
# too; without a compiler it warns and the matcher stays pure Python).
SCREEN_STAMP := $(VENV)/.screen-built
$(SCREEN_STAMP): gateway/fraud/native/screen.c gateway/fraud/native/build.py | $(BIN)/python
	$(BIN)/python gateway/fraud/native/build.py
	@# stamped only once built: a machine that gains a compiler later builds it then
	@if ls gateway/fraud/native/_screen*.so >/dev/null 2>&1; then touch $@; fi

$(DEV_STAMP): pyproject.toml $(DEV_LOCK) | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(DEV_LOCK)
	$(PIP) install --quiet --no-deps -e .
	@touch $@ $(APP_STAMP)

run: $(APP_STAMP) $(SCREEN_STAMP) ## install, start the embedded database (unless DATABASE_URL), migrate, seed, serve
	$(BIN)/billing-gateway run

test: lint typecheck pytest ## install dev tools, then lint, type-check and run every test

lint: $(DEV_STAMP) ## ruff (lint, format), deptry (imports declared), import layers, hadolint, compose spec
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/deptry .
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

format: $(DEV_STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(DEV_STAMP) ## extract the back office's strings; add new ones to the fr and ar catalogues
	$(BIN)/python -m gateway.i18n.messages

migration: $(DEV_STAMP) ## a new migration file to write: make migration name=<slug>
	$(BIN)/python -m gateway.core.db.new_migration $(name)

typecheck: $(DEV_STAMP) ## mypy --strict
	$(BIN)/mypy

pytest: $(DEV_STAMP) $(SCREEN_STAMP) ## the test suite (unit, integration, contract, browser)
	$(BIN)/pytest
	@# the pure-Python matcher as well, which a machine without a compiler runs
	BG_FRAUD_NATIVE=0 $(BIN)/pytest -q tests/unit/test_fraud_matcher.py tests/unit/test_fraud_native_screen.py \
	  tests/unit/test_fraud_native_loading.py

zuora-sdk: $(DEV_STAMP) ## Zuora's Python SDK in its own venv (.venv-zuora-sdk), for the contract test
	$(BIN)/python -c 'from tests.zuora_sdk import sdk_python; print(sdk_python())'

BENCHES := intake fraud_screening fraud_matcher audit back_office zuora_adapter apply cheques scale

# Every bench runs, a missed target or not, and the list of misses comes last (bench=<name> for one).
bench: $(DEV_STAMP) $(SCREEN_STAMP) ## performance figures beside their floors, as ratios (see the README, Tests and benchmarks)
	@missed=""; for name in $(or $(bench),$(BENCHES)); do \
	  echo "== bench/$$name.py"; $(BIN)/python bench/$$name.py || missed="$$missed $$name"; \
	done; \
	if [ -n "$$missed" ]; then echo "targets missed in:$$missed"; exit 1; fi; echo "every target met"

cassettes: $(DEV_STAMP) ## re-record the provider cassettes the tests replay (from the emulators)
	$(BIN)/python -m tests.remote.record_emulator_cassettes

screenshots: $(DEV_STAMP) ## refresh docs/screenshots from the browser tests (needs Chromium)
	BG_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/browser

lock: $(DEV_STAMP) ## re-resolve requirements/*.lock after a change to pyproject.toml (keeps other versions)
	$(COMPILE) -o $(APP_LOCK)
	$(COMPILE) --extra sandbox -o $(SANDBOX_LOCK)
	$(COMPILE) --extra sandbox --extra dev -o $(DEV_LOCK)
	$(BUILD_COMPILE) -o requirements/build.lock

upgrade: $(DEV_STAMP) ## move every locked package to the newest version pyproject.toml allows
	$(COMPILE) --upgrade -o $(APP_LOCK)
	$(COMPILE) --upgrade --extra sandbox -o $(SANDBOX_LOCK)
	$(COMPILE) --upgrade --extra sandbox --extra dev -o $(DEV_LOCK)
	$(BUILD_COMPILE) --upgrade -o requirements/build.lock

clean: ## remove the virtual environment and the sandbox data (database, keys)
	rm -rf $(VENV) .venv-zuora-sdk .venv-zuora-sdk.lock .data .artifacts .mypy_cache .ruff_cache .pytest_cache .hypothesis
