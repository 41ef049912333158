# Voice Profile Server — run `make help` for the list of targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DB ?= ./data/voiceprofile.db

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench bench-big clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/voiceprofile: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/voiceprofile ## Create .venv/ and install the server with its dev tools

run: install ## Serve on http://$(HOST):$(PORT) with the database at $(DB)
	$(BIN)/voiceprofile serve --host $(HOST) --port $(PORT) --db $(DB)

test: install ## Run the whole test suite
	$(BIN)/pytest -q

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install ## Run the benchmarks in benchmarks/ and print their figures
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

BIG_DB ?= /tmp/voiceprofile-bench-10m.db
bench-big: install ## The ledger and read benchmarks at 10M entries / 1M profiles (builds them; slow)
	rm -f $(BIG_DB) $(BIG_DB)-wal $(BIG_DB)-shm
	$(BIN)/python benchmarks/prefill.py --db $(BIG_DB) --entries 10000000
	$(BIN)/python benchmarks/bench_ledger.py --from-db $(BIG_DB)
	$(BIN)/python benchmarks/bench_http.py --from-db $(BIG_DB)
	$(BIN)/python benchmarks/bench_reads.py --big
	rm -f $(BIG_DB) $(BIG_DB)-wal $(BIG_DB)-shm

clean: ## Remove the virtualenv and caches (keeps ./data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
