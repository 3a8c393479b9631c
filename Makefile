# DockPilot: `make run` serves the portal, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BIND := $(or $(DOCKPILOT_BIND),127.0.0.1)
PORT := $(or $(DOCKPILOT_PORT),8000)

.PHONY: run test lint format migrate clean

$(VENV)/.base: requirements/base.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/base.txt
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.txt
	$(PIP) install -q -r requirements/dev.txt
	touch $@

# The pages' front-end libraries, from package-lock.json into node_modules/
# (git ignores it); collectstatic serves their dist folders.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# The pages' translations: each locale/<lang>/LC_MESSAGES/django.po compiled
# to the .mo that git ignores; msgfmt comes from Debian's gettext package.
MESSAGES := $(wildcard locale/*/LC_MESSAGES/django.po)
locale/.compiled: $(VENV)/.base $(MESSAGES)
	@command -v msgfmt >/dev/null || { echo "msgfmt is missing: apt-get install gettext"; exit 1; }
	$(PY) manage.py compilemessages -v 0 --ignore .venv --ignore node_modules
	touch $@

migrate: $(VENV)/.base node_modules/.installed locale/.compiled
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0

run: migrate
	@echo "DockPilot listens on http://$(BIND):$(PORT)/ (API docs at /api/docs/)."
	@echo "First admin: see the setup token in the log below, or run"
	@echo "  $(PY) manage.py createsuperuser"
	@# Web, Celery worker and beat together (Procfile): when one stops or
	@# Ctrl-C is pressed, honcho stops the others. Two malloc arenas for the
	@# web: the threads Django runs views in would each grow one.
	BIND=$(BIND) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile start

test: $(VENV)/.dev node_modules/.installed locale/.compiled
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
