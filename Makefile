# The two commands of the README:
#   make demo   set everything up, load the demo, serve http://127.0.0.1:8000
#   make test   set everything up and run the whole suite (pytest, ruff, mypy)
# Both install what is missing and are safe to run again.
#   make test NOW=2027-12-31T23:50:00+08:00   the suite at that instant (default: drawn from the commit)
#   make sweep                                the suite at many instants (see SWEEP below)
#   make deep                                 the deeper fuzz and browser walks (see DEEP below)

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

.PHONY: demo test sweep deep system venv dotenv database messages migrate seed schedule accounts serve lint typecheck pytest clean

demo: system venv dotenv database messages migrate seed schedule accounts serve

serve:
	@echo
	@echo "  Fieldservice demo:  http://$(HOST):$(PORT)/"
	@echo "  Back office:        http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:           http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  Technician API docs: http://$(HOST):$(PORT)/api/mobile/v1/docs"
	@echo "  Logins (password 'demo'): admin, dispatcher, manager, tech01 ... tech40"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: system venv dotenv database messages lint typecheck pytest

# The instants a sweep runs the suite at: these, and SWEEP_DRAWS more drawn like the default one.
SWEEP ?= 2027-12-31T23:50:00+08:00 2027-02-06T03:15:00+08:00 2027-03-28T12:00:00+08:00 2027-10-31T18:30:00+08:00
SWEEP_DRAWS ?= 4
SWEEP_TESTS ?= tests
sweep: system venv dotenv database messages
	@set -o pipefail; failed=0; for now in $(SWEEP) $$($(PY) -m tests.clock_pin --draw $(SWEEP_DRAWS)); do \
	  echo "== now = $$now"; \
	  $(VENV)/bin/pytest -q -p no:cacheprovider --now $$now $(SWEEP_TESTS) | tail -1 || failed=1; \
	done; exit $$failed

# DEEP: the variants `make test` leaves out for time. Both APIs fuzzed with 100 examples per
# operation, schemathesis's coverage phase, and every parameter's edges as every caller
# (FUZZ_DEEP=1); and the browser walks' deep variants (every back-office page, both languages).
# Chromium comes from `deploy/bootstrap.sh --browser` (`make deep CI=1` runs it); without it the
# browser half is skipped, as in `make test`.
deep: system venv dotenv database messages
	FUZZ_DEEP=1 $(VENV)/bin/pytest $(if $(NOW),--now $(NOW)) tests/faults/test_schemas_all_roles.py
	$(VENV)/bin/pytest $(if $(NOW),--now $(NOW)) -m deep tests/browser

# A development .env for a shell in this checkout (git-ignored; the settings read it only when
# the environment does not set DEBUG, so never in production). Kept if it exists.
dotenv: .env
.env:
	@printf '%s\n' "# Development settings for a shell in this checkout, written by make (git-ignored)." \
	  "# Production never reads this file: see deploy/README.md." \
	  "DEBUG=1" "DATABASE_URL=postgres:///$(DB_NAME)" > $@
	@echo "wrote $@ (DEBUG=1, DATABASE_URL=postgres:///$(DB_NAME))"

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
	$(VENV)/bin/lint-imports --no-cache

typecheck:
	$(VENV)/bin/mypy .

pytest:
	$(VENV)/bin/pytest $(if $(NOW),--now $(NOW))

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
