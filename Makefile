# The two commands a newcomer needs:
#   make run    set everything up and run the reference IdP at http://localhost:8000/ (embedded default;
#               another port: make run PORT=8001; another address: make run HOST=...)
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# localhost, not 127.0.0.1: a WebAuthn relying party id cannot be an IP address (passkeys need it).
HOST ?= localhost
PORT ?= 8000

.PHONY: run test setup setup-dev lint bench clean prod

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.created
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)  # localhost: a WebAuthn RP ID may not be an IP

setup-dev: $(VENV)/.installed-dev

run: setup
	@echo "Open http://$(HOST):$(PORT)/demo/"
	WEBAUTHN_ORIGINS=$${WEBAUTHN_ORIGINS:-http://$(HOST):$(PORT)} \
	  $(PY) manage.py rundev --insecure $(HOST):$(PORT)  # --insecure: serve static files without DEBUG

test: setup-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(PY) -m mypy mfa_oauth  # [tool.mypy] in pyproject.toml; tests/package/test_typing.py runs it too

# The benchmark (README "Benchmarks"): mfa_oauth, django-allauth, django-two-factor-auth + DOT and plain DOT
# under gunicorn (the peers in their own venvs under /tmp), about 10 min;
# BENCH_ARGS=--quick for a short run. Writes bench/results/latest.json.
bench: setup-dev
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

# The production-like stack (PostgreSQL + Redis already running; see README "Production-like stack"):
# migrations, then gunicorn + Celery worker + Celery beat under honcho, settings from .env.
prod: $(VENV)/.installed
	VENV=$(VENV) scripts/prod
