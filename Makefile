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

.PHONY: book book-online test test-colab lint format install install-browser test-unit test-notebooks test-book test-site book-then-site linkcheck-external clean assign grade

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -c requirements/constraints.txt -e ".[book,test]"
	@touch $@

install: $(VENV)/.installed

book: install
	rm -rf _build/.jupyter_cache
	$(VENV)/bin/jupyter-book build --all . --builder html
	@echo ""
	@echo "The course website is ready: open file://$(CURDIR)/_build/html/index.html"

# The publishing build (.github/workflows/publish.yml): downloads allowed, so the site shows real
# pretrained weights and datasets; the jupyter-cache is kept between runs (the workflow's cache key
# also hashes course_utils' source, which jupyter-cache alone does not notice).
book-online: install
	COURSE_OFFLINE=0 $(VENV)/bin/jupyter-book build . --builder html
	@echo "The course website (built online) is ready: _build/html/index.html"

# Order matters: nbval executes every lesson first (lessons 5 and 7 really train and save their
# checkpoints) and hands its executed notebooks to the book build through _build/.jupyter_cache
# (--nb-cache, see conftest.py); the student-version runs in test-unit then load the checkpoints.
# The unit tests (which execute the student versions) run beside the book build and site tests:
# on 2 cores the two halves overlap well (the book build renders the cached notebooks on one core).
# --output-sync prints each half's output in one block when it ends.
test:
	@$(call timed,$(MAKE) --no-print-directory -j2 --output-sync=target install install-browser,install)
	@$(call timed,$(MAKE) --no-print-directory lint,ruff check + ruff format --check)
	@$(call timed,$(MAKE) --no-print-directory test-notebooks,nbval over notebooks/)
	@$(call timed,$(MAKE) --no-print-directory -j2 --output-sync=target test-unit book-then-site,unit tests beside book build + site tests)
	@$(call timed,$(MAKE) --no-print-directory test-colab,Colab-like run of lessons 1 and 7)
	@echo "All course tests passed."

book-then-site:
	@$(call timed,$(MAKE) --no-print-directory test-book,strict book build)
	@$(call timed,$(MAKE) --no-print-directory test-site,site tests)

# $(call timed,COMMAND,LABEL): run COMMAND, print how long it took, keep its exit status.
timed = start=$$(date +%s); $(1); rc=$$?; echo "[time] $(2): $$(( $$(date +%s) - start )) s"; exit $$rc

# The package, tests and scripts follow one style (pyproject.toml [tool.ruff]); `make format` applies it.
lint: install
	$(VENV)/bin/ruff check course_utils tests scripts benchmarks _ext conftest.py
	$(VENV)/bin/ruff format --check course_utils tests scripts benchmarks _ext conftest.py

format: install
	$(VENV)/bin/ruff check --fix course_utils tests scripts benchmarks _ext conftest.py
	$(VENV)/bin/ruff format course_utils tests scripts benchmarks _ext conftest.py

# Notebooks run one at a time: two kernels started at once by different processes can race for
# the same TCP ports (a kernel then waits forever), and a lesson is timed on both cores.
test-unit: install
	COURSE_OFFLINE=1 $(PY) -m pytest tests -q -m "not site and not colab" --durations=10

# Lessons 1 and 7 as a Colab user runs them: a fresh venv with Colab's versions
# (tests/colab/requirements.txt), a stand-in google.colab, the first cell's own pip install from a
# local clone, an empty working folder. Needs PyPI; about four minutes. Runs alone (it times lessons).
test-colab: install
	$(PY) -m pytest tests/colab -q -m colab -s

test-notebooks: install
	rm -rf _build/.jupyter_cache
	COURSE_OFFLINE=1 $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
	  --nb-cache=_build/.jupyter_cache notebooks --durations=15

# Renders the notebooks that `make test-notebooks` executed and cached; a notebook missing from the
# cache (or changed since) is executed here.
test-book: install
	rm -rf _build/html _build/.doctrees
	COURSE_OFFLINE=1 $(VENV)/bin/jupyter-book build . --builder html -W --keep-going

# Site tests drive Debian's Chromium (never a browser download). As root (CI) or with passwordless
# sudo, a missing /usr/bin/chromium is installed with apt-get; otherwise the target says what to do.
install-browser:
	@if [ -x /usr/bin/chromium ]; then \
	  echo "Using $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "install-browser: /usr/bin/chromium is missing and apt-get needs root; run" \
	    "'sudo apt-get install -y chromium' (Debian/Ubuntu) and retry." >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium fonts-liberation; \
	fi

# Needs the built site (`make test-book` or `make book`) and fails loudly without it.
test-site: install install-browser
	$(PY) -m pytest tests -q -m site --durations=5

# External links need the internet; informative only, never part of `make test`.
linkcheck-external: install
	-$(PY) tests/site/linkcheck_external.py

assign: install
	$(PY) -m course_utils.assign build --out dist/

# Grade a class: make grade LESSON=01 SUBMISSIONS="submissions/*.ipynb" [OUT=grades] [SANDBOX=1]
# This RUNS THE STUDENTS' CODE: do it in a container or a VM (see book/instructors.md, "Grading a class").
OUT ?= grades
grade: install
	@if [ -z "$(LESSON)" ] || [ -z "$(SUBMISSIONS)" ]; then \
	  echo "usage: make grade LESSON=NN SUBMISSIONS='folder/*.ipynb' [OUT=grades] [SANDBOX=1]" >&2; exit 2; fi
	$(PY) -m course_utils.assign grade $(SUBMISSIONS) --lesson $(LESSON) --out $(OUT) $(if $(filter 1,$(SANDBOX)),--sandbox)

clean:
	rm -rf _build dist .pytest_cache
