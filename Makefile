# Everything starts from a machine that has only python3: the first target that needs the
# virtualenv builds it, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck fmt bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dedupe cluster examples/news.jsonl

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check dedupe tests benchmarks
	$(VENV)/bin/ruff format --check dedupe tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

fmt: $(STAMP)
	$(VENV)/bin/ruff format dedupe tests benchmarks
	$(VENV)/bin/ruff check --fix dedupe tests benchmarks

bench: $(STAMP)
	$(PY) -m benchmarks.run --output BENCHMARKS.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
