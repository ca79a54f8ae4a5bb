# Two commands for a newcomer (see README.md):
#   make book   -- create/reuse .venv, install everything, execute every notebook, write _build/html
#   make test   -- same environment; unit tests, nbval over every notebook, strict book build, site tests
#
# COURSE_FAST=1 (default here) runs every notebook in its reduced configuration on a CPU;
# `make book COURSE_FAST=0` builds the full version (use a GPU machine for that).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
COURSE_FAST ?= 1
export COURSE_FAST
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test install test-unit test-notebooks test-book test-site clean assign

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -c requirements/constraints.txt -e ".[book,test]"
	@touch $@

install: $(VENV)/.installed

book: install
	$(VENV)/bin/jupyter-book build . --builder html
	@echo ""
	@echo "The course website is ready: open file://$(CURDIR)/_build/html/index.html"

test: install test-unit test-notebooks test-book test-site
	@echo "All course tests passed."

test-unit: install
	COURSE_OFFLINE=1 $(PY) -m pytest tests -q -m "not site" --durations=10

test-notebooks: install
	COURSE_OFFLINE=1 $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks --durations=0

test-book: install
	rm -rf _build/html _build/.doctrees
	COURSE_OFFLINE=1 $(VENV)/bin/jupyter-book build . --builder html -W --keep-going

test-site: install
	$(PY) -m pytest tests -q -m site

assign: install
	$(PY) -m course_utils.assign build --out dist/

clean:
	rm -rf _build dist .pytest_cache
