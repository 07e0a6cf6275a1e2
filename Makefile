# The single entry point. `make demo` and `make test` are the two set-up commands of the README;
# both build .venv from the pinned dependencies first, with nothing but python3 on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/doorstep

.PHONY: install demo test test-pg lint format bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/doorstep demo --port $${PORT:-8000} --accounts $${ACCOUNTS:-20000}

test: install
	$(BIN)/pytest -n 2 tests

test-pg: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 tests

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/doorstep makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/doorstep bench ledger --accounts $${ACCOUNTS:-1000000} --json
	$(BIN)/doorstep bench nightly --accounts $${ACCOUNTS:-1000000} --engine $${ENGINE:-duckdb} --json
	$(BIN)/doorstep bench compliance --actions $${ACCOUNTS:-1000000} --json

clean:
	rm -rf $(VENV) var/bench
