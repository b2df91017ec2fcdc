# The two commands a newcomer needs:  make run   and   make test
# Everything else here is what those two stand on.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup lint bench-import clean

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Baogong: http://127.0.0.1:8000  (Ctrl-C stops the web server and the task worker)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker & \
	  $(PY) manage.py runserver 127.0.0.1:8000

test: setup
	bash scripts/ensure-browser
	$(PY) -m pytest

setup: $(VENV)/.installed locale/zh_Hans/LC_MESSAGES/django.mo

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Baogong needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

locale/zh_Hans/LC_MESSAGES/django.mo: $(VENV)/.installed $(wildcard locale/*/LC_MESSAGES/django.po)
	$(PY) scripts/compile_translations.py

lint: setup
	$(VENV)/bin/ruff check .

bench-import: setup
	$(PY) bench/import_households.py

clean:
	rm -rf $(VENV) var/*.sqlite3
