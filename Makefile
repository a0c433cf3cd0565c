# The two commands of the README:
#   make demo   set everything up, load the demo, serve http://127.0.0.1:8000
#   make test   set everything up and run the whole suite (pytest, ruff, mypy)
# Both install what is missing and are safe to run again.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DB_NAME ?= fieldservice
SEED ?= 1
SCALE ?= demo
HOST ?= 127.0.0.1
PORT ?= 8000
SOLVER_SECONDS ?= 5

# Development defaults; production sets its own environment (see deploy/README.md).
export DEBUG ?= 1
export DATABASE_URL ?= postgres:///$(DB_NAME)

.PHONY: demo test system venv database messages migrate seed schedule accounts serve lint typecheck pytest clean

demo: system venv database messages migrate seed schedule accounts serve

serve:
	@echo
	@echo "  Fieldservice demo:  http://$(HOST):$(PORT)/"
	@echo "  Back office:        http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:           http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  Technician API docs: http://$(HOST):$(PORT)/api/mobile/v1/docs"
	@echo "  Logins (password 'demo'): admin, dispatcher, manager, tech01 ... tech40"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: system venv database messages lint typecheck pytest

system:
	@bash deploy/bootstrap.sh $(if $(CI),--browser,)

venv: $(VENV)/.installed

# Rebuilt only when the pinned requirements change.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

database:
	@psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DB_NAME)'" | grep -q 1 \
	  || (echo "creating database $(DB_NAME)" && createdb $(DB_NAME))
	@psql -d $(DB_NAME) -qc "CREATE EXTENSION IF NOT EXISTS postgis"

# The Simplified Chinese catalog is compiled from locale/*/django.po (gettext from apt).
messages:
	$(PY) manage.py compilemessages --ignore=.venv -v0

migrate:
	$(PY) manage.py migrate --noinput

seed:
	$(PY) manage.py seed_demo --seed $(SEED) --scale $(SCALE)

# Twelve months of account health (for the trends), then today's renewal milestones.
accounts:
	$(PY) manage.py compute_health --history-months 12
	$(PY) manage.py run_renewals

# Tomorrow's plan from the optimizer, left for the dispatcher to review and accept.
schedule:
	$(PY) manage.py solve_day --date tomorrow --time-limit $(SOLVER_SECONDS)

lint:
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck:
	$(VENV)/bin/mypy .

pytest:
	$(VENV)/bin/pytest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
