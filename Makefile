# Two commands for a fresh machine with Python 3.11 and make:
#   make run    serve the API and pages on http://$(HOST):$(PORT) (SQLite, local storage, demo data)
#   make test   the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_DATA ?= 1
WORKERS ?= 2
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test lint format bench load browser migrate runtime-check clean

# The service's own packages (requirements.txt) ...
$(BIN)/.installed: requirements.txt requirements-nodeps.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

# ... and, for tests, lint and benchmarks, requirements-dev.txt on top.
$(BIN)/.dev-installed: $(BIN)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(BIN)/.installed
	$(FLASK) db upgrade

# The database says whether the demo is there (a SQLite file one day, an empty
# PostgreSQL database the next): seed-demo --if-absent asks it.
run: migrate
	@if [ "$(DEMO_DATA)" != "0" ]; then $(FLASK) seed-demo --if-absent; fi
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --threads 4 \
		--access-logfile - wsgi:app

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			(apt-get install -y -q chromium >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
			|| echo "chromium could not be installed: browser tests will be skipped"; \
		else echo "no /usr/bin/chromium and no root apt-get: browser tests will be skipped"; fi; \
	fi

test: $(BIN)/.dev-installed browser
	$(BIN)/pytest

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy --strict --follow-imports=silent app/clinical app/core

format: $(BIN)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.dev-installed
	mkdir -p build
	$(BIN)/python -m tests.bench.run

load: $(BIN)/.dev-installed
	$(BIN)/python -m tests.load.run

# A venv of requirements.txt alone imports every module, migrates and serves.
runtime-check:
	PYTHON=$(PYTHON) bash .ci/runtime-check

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache
