# Two entry points for a fresh machine: `make demo` (the main job) and `make test` (everything).
# Both share .venv; each has its own stamp, so `make demo` installs only the `demo` extra
# (SQLAlchemy: seconds) and `make test` the whole `dev` toolchain (numba, dask, sphinx, ...).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint docs bench bench-batch bench-recompute bench-orm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: the demo compiles only the modules it imports, on first use (saves ~10 s).
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -e ".[demo]"
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/okrcore demo

test: $(STAMP)
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scalar.py

# The batch engine against its baselines (Polars, DuckDB, numpy, scalar, a STREAM triad).
bench-batch: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/bench_batch.py --sizes 1000000 10000000

# okrcore recompute from Parquet: one process against a 2-worker Dask cluster.
bench-recompute: $(STAMP)
	$(BIN)/python benchmarks/bench_recompute.py --sizes 1000000 10000000

# The ORM adapter: recompute of 10^6 stored KRs from SQLite (and PostgreSQL when
# OKRCORE_TEST_POSTGRES_URL is set) against ORM objects + the scalar path.
bench-orm: $(STAMP)
	$(BIN)/python benchmarks/bench_orm.py --size 1000000 \
		--databases sqlite $(if $(OKRCORE_TEST_POSTGRES_URL),postgresql,)

clean:
	rm -rf $(VENV) docs/_build .mypy_cache .ruff_cache .pytest_cache .hypothesis
