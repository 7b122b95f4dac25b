# semitrade — every command a user or CI needs. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test dev lint clean

install: $(STAMP)

# Pinned through requirements.lock (pip constraints): the Dagster pair, dbt-core < 1.12, dbt-duckdb 1.11.1,
# dbt-spark 1.11.0 and pyspark 4 (the spark extra: the tests build the sample on Spark too; Java 17+).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,spark]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/semitrade run

PY_DIRS := ingest orchestration serving tests bench

# Two worker processes (pytest-xdist), one per core; tests that share a session build or the Spark
# session stay in one worker (tests/conftest.py). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

# The Dagster UI on the offline sample's home; `SEMITRADE_HOME=data/live make dev` for real data.
dev: $(STAMP)
	export SEMITRADE_HOME=$${SEMITRADE_HOME:-data/sample}; \
	dagster_home=$$($(BIN)/python -m orchestration.instance) || exit 1; \
	DAGSTER_HOME=$$dagster_home $(BIN)/dagster dev -w workspace.yaml

lint: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

clean:
	rm -rf data/sample dbt_project/target dbt_project/logs  # data/live (real data) is kept

# Benchmark (SYNTHETIC Comtrade bulk files): ours vs the engine limits vs pandas, see bench/README.md.
.PHONY: bench bench-large
bench: $(STAMP)
	$(BIN)/python -m bench.run --rows 1000000

bench-large: $(STAMP)
	$(BIN)/python -m bench.run --rows 10000000
