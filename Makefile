# Leadflow: make run (demo server), make test, make lint, make test-postgres.
# Everything runs from a virtualenv in .venv, created with the first Python >= 3.12 found.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
LF := $(VENV)/bin/leadflow
STAMP := $(VENV)/.leadflow-installed
TEST_STAMP := $(VENV)/.leadflow-test-installed
PORT ?= $(or $(LEADFLOW_PORT),8000)
DATA := $(abspath $(or $(LEADFLOW_DATA_DIR),var))
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# True when the Python given as $$1 runs and is at least 3.12 (pyenv shims of versions
# that are not selected fail here, as they should).
PY_OK := -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'

.PHONY: help run test test-postgres api-fuzz lint ruff mypy venv chromium clean-venv

help:
	@echo "make run            start Leadflow with demo data on http://127.0.0.1:$(PORT)/"
	@echo "make test           run the whole test suite (SQLite)"
	@echo "make test-postgres  run the test suite against PostgreSQL ($(POSTGRES_URL))"
	@echo "make api-fuzz       schemathesis against the served API, on PostgreSQL (drops and"
	@echo "                    re-creates the database leadflow_fuzz beside POSTGRES_URL's)"
	@echo "make lint           ruff and mypy"

# A Python >= 3.12: python3.14/3.13/3.12/python3 if they really run, else pyenv's.
venv:
	@if ! $(PY) $(PY_OK) 2>/dev/null; then \
	  found=""; \
	  for candidate in python3.14 python3.13 python3.12 python3; do \
	    if command -v $$candidate >/dev/null 2>&1 && $$candidate $(PY_OK) >/dev/null 2>&1; then \
	      found=$$(command -v $$candidate); break; fi; \
	  done; \
	  if [ -z "$$found" ]; then \
	    root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
	    for candidate in $$(ls -d "$$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	      if "$$candidate" $(PY_OK) >/dev/null 2>&1; then found=$$candidate; break; fi; \
	    done; \
	  fi; \
	  if [ -z "$$found" ]; then \
	    echo "make: Leadflow needs Python 3.12 or newer, and none was found (tried python3.14," \
	         "python3.13, python3.12, python3 and pyenv's versions). Install one, e.g." \
	         "'pyenv install 3.13', then run make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$found ($$($$found --version))"; \
	  rm -rf $(VENV) && "$$found" -m venv $(VENV); \
	fi

# pip's output goes to $(VENV)/pip.log, shown only when the install fails.
$(STAMP): pyproject.toml | venv
	@echo "Installing Leadflow into $(VENV)..."
	@$(PIP) -e . > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@

$(TEST_STAMP): pyproject.toml | venv
	@echo "Installing Leadflow and its test tools into $(VENV)..."
	@$(PIP) -e '.[test]' > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@ $(STAMP)

# The demo: migrations, demo data on the first run, the admin login kept in
# $(DATA)/demo-credentials.json, then the server with its worker; the login banner is the
# last thing printed before the request log. Ctrl-C stops it; the data stays in $(DATA)
# (LEADFLOW_DATA_DIR, default var/) for the next run. The secret key is a file there:
# every `leadflow` command run from this folder finds it (leadflow/settings.py).
run: $(STAMP)
	@mkdir -p "$(DATA)"
	@test -s "$(DATA)/secret-key" || (umask 077 && $(PY) -c \
	  'import secrets; print(secrets.token_urlsafe(50))' > "$(DATA)/secret-key")
	@unset LEADFLOW_DEBUG; \
	export LEADFLOW_DEMO=1 LEADFLOW_PORT=$(PORT) LEADFLOW_DATA_DIR="$(DATA)" \
	  LEADFLOW_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend \
	  LEADFLOW_EMAIL_FILE_PATH="$(DATA)/sent-emails"; \
	$(LF) migrate && \
	$(LF) demo --credentials "$(DATA)/demo-credentials.json" --no-banner && \
	exec $(LF) serve --with-worker --host 127.0.0.1 --port $(PORT) \
	  --banner "$(DATA)/demo-credentials.json"

# Browser tests drive Debian's Chromium; install it when we can, else they skip.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser tests..."; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
	    || echo "Could not install Chromium: the browser tests will be skipped."; \
	  else \
	    echo "No /usr/bin/chromium: the browser tests will be skipped."; \
	  fi; \
	fi

test: $(TEST_STAMP) chromium
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: $(TEST_STAMP) chromium
	DATABASE_URL=$(POSTGRES_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

# A throwaway database next to POSTGRES_URL's; see tests/schemathesis/run.sh for the knobs.
api-fuzz: $(TEST_STAMP)
	FUZZ_DATABASE_URL=$${FUZZ_DATABASE_URL:-$(dir $(POSTGRES_URL))leadflow_fuzz} \
	  tests/schemathesis/run.sh

ruff: $(TEST_STAMP)
	$(VENV)/bin/ruff check .

# django-stubs imports the settings; LEADFLOW_TESTING lets them load without a secret.
mypy: $(TEST_STAMP)
	LEADFLOW_TESTING=1 $(VENV)/bin/mypy leadflow

lint: ruff mypy

clean-venv:
	rm -rf $(VENV)
