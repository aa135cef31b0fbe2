# Boltdeck: `make install` creates .venv with what serving needs, `make run` serves on the
# embedded defaults, `make test` adds the test extras and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test bench bench-quick browser-deps service-deps test-postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving needs the package, its dependencies and the client commands (the test extras weigh ~300 MB more).
$(BIN)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[client]'   # the server, and the `boltdeck run|tail|...` client commands
	touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed-serve

run: $(BIN)/.installed-serve
	$(BIN)/boltdeck db upgrade        # creates or migrates the database (only here and in `serve`)
	$(BIN)/boltdeck users bootstrap   # a fresh install only: creates `admin` and prints its password once
	$(BIN)/boltdeck serve

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The scale-out tests start their own PostgreSQL, Redis and nginx from Debian's packages
# (without them those tests skip, each saying what to install).
service-deps:
	@command -v redis-server >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server nginx >/dev/null; }

test: $(BIN)/.installed-test browser-deps service-deps
	$(BIN)/pytest

# The API and streaming suites again, every live server on its own PostgreSQL database (tests/pg.py).
test-postgres: $(BIN)/.installed-test service-deps
	BOLTDECK_TEST_DATABASE=postgresql $(BIN)/pytest tests/api tests/streaming

bench: $(BIN)/.installed-test
	$(BIN)/python -m bench

bench-quick: $(BIN)/.installed-test
	$(BIN)/python -m bench --quick
