# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
N ?= 10000
SELLERS ?= 200
DURATION ?= 60
# Where `make test` looks for services when DATABASE_URL / REDIS_URL are not set.
LOCAL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
LOCAL_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help run test lint format bench loadtest bench-dashboard bench-ingest clean

help:
	@echo "make run    - install, migrate, load demo data and serve http://$(HOST):$(PORT)"
	@echo "make test   - install, lint and run the whole test suite"
	@echo "make bench  - benchmark closing a day for N store accounts (N=$(N))"
	@echo "make loadtest - SELLERS Locust sellers for DURATION s against gunicorn (PostgreSQL)"
	@echo "make bench-dashboard - the dashboard, cached and not, vs a one-query view (PostgreSQL)"
	@echo "make bench-ingest - the daily-orders API vs COPY, import_history vs its floor (PostgreSQL)"
	@echo "make format - apply ruff formatting and safe fixes"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else "Python 3.12 or newer is needed (found %d.%d at $(PYTHON)); install 3.13 or run make PYTHON=python3.13" % v[:2])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo "Serving http://$(HOST):$(PORT)/ (seller pages) and http://$(HOST):$(PORT)/admin/ (specialists)"
	@if [ -n "$${REDIS_URL:-}" ]; then \
		echo "Starting a Celery worker and beat against $$REDIS_URL"; \
		trap 'kill 0' EXIT; \
		$(VENV)/bin/celery -A aha_site worker --loglevel=INFO --concurrency=2 & \
		$(VENV)/bin/celery -A aha_site beat --loglevel=INFO & \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Uses PostgreSQL and Redis when they answer; REQUIRE_SERVICES=1 turns their absence into a failure.
test: lint
	@if [ -z "$${DATABASE_URL:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		export DATABASE_URL="$(LOCAL_DATABASE_URL)"; fi; \
	if [ -z "$${REDIS_URL:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
		export REDIS_URL="$(LOCAL_REDIS_URL)"; fi; \
	echo "Database: $${DATABASE_URL:-SQLite}  Broker: $${REDIS_URL:-none (tasks run in-process)}"; \
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) manage.py bench_day_close --accounts $(N)

loadtest: $(STAMP)
	$(PY) manage.py loadtest --sellers $(SELLERS) --duration $(DURATION)

bench-dashboard: $(STAMP)
	$(PY) manage.py bench_dashboard --clients 8 --seconds 10

bench-ingest: $(STAMP)
	$(PY) manage.py bench_ingest $(if $(ROWS),--rows $(ROWS)) $(if $(IMPORT_ACCOUNTS),--import-accounts $(IMPORT_ACCOUNTS))

clean:
	rm -rf $(VENV) staticfiles
