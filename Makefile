# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SAMPLES := events/samples/minneapolis-2026.ndjson
export TIMELINE_DATABASE_URL ?= sqlite:///./timeline.db

.PHONY: install run serve test test-fast check bench clean browsers

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

install: $(BIN)/.installed

# `make run` is a demo on this machine, so webhooks may reach a receiver here (plain http, loopback:
# see "Webhooks" in README.md); `timeline serve` alone refuses both. The environment wins over these.
run: export TIMELINE_WEBHOOK_ALLOW_HTTP ?= true
run: export TIMELINE_WEBHOOK_ALLOW_NETWORKS ?= 127.0.0.0/8
run: install
	$(BIN)/timeline migrate
	$(BIN)/timeline import $(SAMPLES)
	@echo "A demo API key with the write and webhooks scopes, for every example in README.md (shown once):"
	@$(BIN)/timeline keys create --name demo --scopes write,webhooks | tail -n 1
	@echo "Webhooks may reach receivers on this machine (TIMELINE_WEBHOOK_ALLOW_HTTP=$$TIMELINE_WEBHOOK_ALLOW_HTTP," \
	      "TIMELINE_WEBHOOK_ALLOW_NETWORKS=$$TIMELINE_WEBHOOK_ALLOW_NETWORKS): see Webhooks in README.md"
	@echo "Serving on http://$(HOST):$(PORT)  (widget: http://$(HOST):$(PORT)/widget/incidents/alex-pretti-shooting)"
	$(BIN)/timeline serve --host $(HOST) --port $(PORT)

TIMELINEJS := tests/e2e/node_modules/@knight-lab/timelinejs/dist/js/timeline.js

# The browser tests drive Debian's chromium (Playwright's own browser download is not used) and
# load the real TimelineJS from the npm registry; both are installed here so CI runs them for real.
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else echo "*** chromium is not installed and this is not root: run 'sudo apt-get install -y chromium'." \
	            "The browser tests (tests/e2e/test_*_browser.py) will be skipped."; fi; }

$(TIMELINEJS): tests/e2e/package.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
	  else echo "*** npm is not installed: run 'sudo apt-get install -y npm' (needed for the TimelineJS test)"; exit 1; fi; }
	npm install --prefix tests/e2e --no-package-lock --no-audit --no-fund
	touch $@

# Static checks: ruff (lint and format) and mypy, with the settings in pyproject.toml.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): every test
# process compiles the app and rewrites the tests' asserts otherwise, seconds of each run.
# Every test runs, in three parts: the API and integration tests that start no real server, in two
# processes (pytest-xdist; each has its own throwaway PostgreSQL); then, in one process, the unit
# tests (which print the extraction scores), the harness's own tests and every test that starts
# real servers, receivers or browsers (marked e2e), which want the machine to themselves.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest
test: install browsers $(TIMELINEJS) check
	$(PYTEST) -n 2 -m "not e2e" tests/api tests/integration
	$(PYTEST) tests/unit tests/support tests/e2e
	$(PYTEST) -m e2e tests/api tests/integration

# The edit-test loop, in under a minute: the unit and API tests on the embedded SQLite default, in
# two processes, each property on a fifth of its examples, without the ones that start real servers
# (marked e2e). `make test` runs them all, on both backends.
test-fast: install
	TIMELINE_TEST_EXAMPLES=0.2 $(PYTEST) -q -n 2 -m "not postgres and not e2e" tests/unit tests/api

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) timeline.db timeline.db-wal timeline.db-shm *.egg-info tests/e2e/node_modules test-artifacts
