# Two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs glassnet, and runs the seed networks
#   make test   creates .venv with the test extras and runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,dask,ray,spark]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/demo.py

# -rs lists skipped tests with their reasons (the browser tests say how to enable them)
test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -rs

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
