# Everything starts from a machine that has only python3: the first target that needs the
# virtualenv builds it, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# setuptools' editable-build deprecation chatter and pip's notes about unreachable local
# package folders are not for users; errors still show (the import check below catches them).
QUIET_PIP := grep -v -e '^\s*$$' -e 'Warning' -e '!!' -e '\*\*\*\*' -e '^  ' \
	-e "^WARNING: Location '" || true

.PHONY: demo test hostile fuzz check lint typecheck fmt bench bench-scale bench-add-ceiling bench-spark bench-spark-incremental clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Setting up $(VENV) (first run only) ..."
	@$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	@PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[dev,spark]' 2>&1 | $(QUIET_PIP)
	@$(PY) -c "import dedupe" && echo "Installed dedupe into $(VENV)."
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dedupe cluster examples/news.jsonl
	@mkdir -p build
	$(VENV)/bin/dedupe report examples/news.jsonl --format html -o build/report.html
	@echo "Who copied what: open build/report.html in a browser, or run: .venv/bin/dedupe report examples/news.jsonl"

test: $(STAMP)
	$(PY) -m pytest -q

# The hostile-input suite alone (it is part of `make test` too).
hostile: $(STAMP)
	$(PY) -m pytest -q -m hostile tests/test_hostile.py tests/test_report_cli.py

# Coverage-guided fuzzing of the readers and attribution with atheris, FUZZ_SECONDS per target,
# in 60 s rounds (atheris' own memory grows over long runs; the corpus carries over rounds).
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	@$(PY) -m pip install --quiet atheris 2>&1 | $(QUIET_PIP)
	@for target in readers attribution; do \
	  mkdir -p build/fuzz/$$target; left=$(FUZZ_SECONDS); \
	  while [ $$left -gt 0 ]; do \
	    round=$$(( left < 60 ? left : 60 )); \
	    echo "fuzz $$target: $$round s"; \
	    (cd tests/fuzz && ../../$(PY) run.py $$target $$round ../../build/fuzz/$$target \
	      2>&1 | grep -E "^Done|ERROR|SUMMARY|Traceback|crash-" ; true); \
	    if ls tests/fuzz/crash-* >/dev/null 2>&1; then echo "crash found: tests/fuzz/crash-*"; exit 1; fi; \
	    left=$$(( left - round )); \
	  done; \
	done

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
	$(PY) -m benchmarks.attribution --output BENCHMARKS.md
	$(PY) -m benchmarks.index_bench --output BENCHMARKS.md

# `dedupe cluster` on a JSONL file of 100k and 1M articles (~25 min; corpora kept in $$TMPDIR).
bench-scale: $(STAMP)
	$(PY) -m benchmarks.scale --output BENCHMARKS.md

# Adds to a 100k SQLite index as shipped beside the same adds with the band table and
# signatures in memory: what holding them in RAM would buy (~20 min, ~2.5 GB of free disk
# and ~3 GB of memory).
bench-add-ceiling: $(STAMP)
	$(PY) -m benchmarks.add_ceiling --output BENCHMARKS.md

# The Spark engine beside the local path (local[2]): 100k articles of make bench's corpus, then
# 100k and 1M of make bench-scale's (~1.5 h on the 2-core machine, ~60 GB of free disk at 1M;
# corpora kept in $$TMPDIR/dedupe-bench-scale).
bench-spark: $(STAMP)
	SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$(abspath $(PY)) $(PY) -m benchmarks.spark_bench --sizes 100000 --output BENCHMARKS.md
	SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$(abspath $(PY)) $(PY) -m benchmarks.spark_bench --corpus scale --sizes 100000,1000000 --output BENCHMARKS.md

# A daily --spark-state run beside a full run over the same articles (~10 min).
bench-spark-incremental: $(STAMP)
	SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$(abspath $(PY)) $(PY) -m benchmarks.spark_bench --incremental 20000 --output BENCHMARKS.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
