# Jadugar: `make demo` and `make test` work from a fresh clone (they build .venv themselves).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-packages test typecheck lint check bench chaos demo generate migration clean

setup: system-packages $(STAMP)

# PgBouncer, for the PostgreSQL tests through a transaction pooler (tests/integration/
# pgbouncer.py). Installed with apt when missing and we are root; otherwise its tests skip
# (say so); with CI=true a pgbouncer that is still missing fails setup.
system-packages:
	@if ! command -v pgbouncer >/dev/null 2>&1 && ! test -x /usr/sbin/pgbouncer; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make setup: installing pgbouncer (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null) \
	      || echo "make setup: apt-get could not install pgbouncer" >&2; \
	  fi; \
	  if ! command -v pgbouncer >/dev/null 2>&1 && ! test -x /usr/sbin/pgbouncer; then \
	    if [ "$$CI" = true ]; then \
	      echo "make setup: pgbouncer is missing and could not be installed (CI=true requires it)" >&2; \
	      exit 1; \
	    fi; \
	    echo "make setup: pgbouncer not installed (apt-get install pgbouncer); its tests will skip" >&2; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[generator,dev]'
	touch $(STAMP)

# The whole proof: every test, then the strict type check and the linter.
test: setup
	$(BIN)/jadugar generate --check
	$(BIN)/jadugar makemigrations --check
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory typecheck lint

# The fault and attack suite alone, ending in its table of figures (also part of `make test`).
chaos: setup
	$(BIN)/python -m pytest -q tests/chaos

generate: setup
	$(BIN)/jadugar generate

# the next migration from schema edits: make migration NAME=add_user_bio
migration: setup
	$(BIN)/jadugar makemigrations $(NAME)

typecheck: setup
	$(BIN)/python -m mypy -p jadugar -p jadugar_generator -p blog
	$(BIN)/python -m mypy tests examples bench schemas generated/migrations

lint: setup
	$(BIN)/ruff check runtime generator tests bench examples schemas
	$(BIN)/ruff format --check runtime generator tests bench examples schemas
	$(BIN)/ruff check --isolated --line-length 100 generated
	$(BIN)/ruff format --check --isolated --line-length 100 generated

check: test

bench: setup
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench
	$(BIN)/python -m bench --workloads generate
	$(BIN)/python -m bench --workloads peers
	$(BIN)/python -m bench --workloads pgbouncer
	$(BIN)/python -m bench --workloads galera

demo: setup
	$(BIN)/jadugar generate
	PYTHONPATH=generated $(BIN)/python examples/demo.py

clean:
	rm -rf $(VENV) jadugar.db demo.db .pytest_cache .mypy_cache .ruff_cache
