# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint typecheck unit install clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m reconciler.devtools.demo

test: install lint typecheck unit

lint: install
	$(PY) -m ruff check reconciler tests bench examples/plugins

typecheck: install
	$(PY) -m mypy

unit: install
	$(PY) -m pytest

bench: install
	$(PY) bench/bench_plan.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
