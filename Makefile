# The single entry point. `make demo` and `make test` are the two set-up commands of the README;
# both build .venv from the pinned dependencies first, with nothing but python3 on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/doorstep

# Debian packages the code needs at run time: CJK fonts for the notice letters (WeasyPrint draws
# boxes without them), poppler-utils to turn a PDF into pages, Chromium for the browser tests
# (Playwright cannot download its own browser offline), gettext for `make messages` and the
# catalogue's tests (msgfmt).
SYSTEM_PACKAGES := fonts-noto-cjk poppler-utils chromium gettext

.PHONY: install system-deps demo test test-pg failure-tests lint format messages bench loadtest clean

install: system-deps $(STAMP)

system-deps:
	@if dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null; }; \
	else echo "missing Debian packages; run: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; fi

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/doorstep demo --port $${PORT:-8000} --accounts $${ACCOUNTS:-20000}

# --dist loadgroup: the Spark tests share one xdist group, so one worker starts one JVM for them.
test: install
	$(BIN)/pytest -n 2 --dist loadgroup tests

test-pg: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 --dist loadgroup tests

# The failure tests (docs/operations.md): processes and connections killed mid-work, on SQLite, or on
# PostgreSQL when DATABASE_URL names it. The quick ones also run in `make test`; the slow ones (the
# nightly run killed at random points, the worker killed while sending) only here. Figures printed.
failure-tests: install
	$(BIN)/pytest -m failure -s -p no:cacheprovider tests/failure

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/doorstep makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Simplified Chinese catalogue (docs/i18n.md): collect every marked string of src/doorstep into
# src/doorstep/locale/zh_Hans/LC_MESSAGES/django.po, then compile django.mo; commit both. Run from
# src/doorstep so the files land in its locale/; file-level locations keep diffs to real changes.
IN_SOURCE := cd src/doorstep && DOORSTEP_VAR_DIR=$${DOORSTEP_VAR_DIR:-$(abspath var)} $(abspath $(BIN))/doorstep

messages: install
	$(IN_SOURCE) makemessages -l zh_Hans --no-obsolete --add-location file \
	  --ignore "tests/*" --ignore ".venv/*" --ignore "var/*"
	$(IN_SOURCE) compilemessages -l zh_Hans

bench: install
	$(BIN)/doorstep bench ledger --accounts $${ACCOUNTS:-1000000} --json
	$(BIN)/doorstep bench nightly --accounts $${ACCOUNTS:-1000000} --engine $${ENGINE:-duckdb} --score --json
	$(BIN)/doorstep bench compliance --actions $${ACCOUNTS:-1000000} --json
	$(BIN)/doorstep bench routing --visits 300 --teams 30 --json
	$(BIN)/doorstep bench dashboards --repeat 5 --json
	for f in C1_10_1 C2_10_1 R1_10_1 R2_10_1 RC1_10_1 RC2_10_1; do \
	  $(BIN)/doorstep bench routing --instance ../shared/benchmarks/vrptw-gehring-homberger-1000/$$f.vrp --seconds 60 --json | tail -n 1; done

# The load test (docs/loadtest.md), never in CI: collectors, borrowers and field agents through
# locust against `doorstep serve` on loopback, on PostgreSQL (databases named after PG_URL's:
# <name>_loadtest_<N>_cache, built once by `doorstep demo`, and <name>_loadtest, a fresh copy per
# run). Prints requests/s, p50 and p99 per endpoint; the JSON figures are the last line; exits 1
# on any failed request. LOADTEST_SECONDS (120), LOADTEST_RATE (requests/s offered, 300), ACCOUNTS,
# WORKERS, THREADS; REBUILD=1 builds the demo anew; LOADTEST_SCENARIO=floor asks only for the
# front doors, unpaced: what the stack serves here when pages do no work of their own.
loadtest: install
	DATABASE_URL=$(PG_URL) $(BIN)/doorstep bench load --json --seconds $${LOADTEST_SECONDS:-120} \
	  --rate $${LOADTEST_RATE:-300} --scenario $${LOADTEST_SCENARIO:-work} \
	  --accounts $${ACCOUNTS:-20000} $${WORKERS:+--workers $$WORKERS} --threads $${THREADS:-1} \
	  $${REBUILD:+--rebuild}

clean:
	rm -rf $(VENV) var/bench
