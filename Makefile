# case monitor — every target installs what it needs first.
# `make run` serves the demo on http://127.0.0.1:5000; `make test` runs the whole suite.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Debian packages the tests and the app need: Chromium for the browser test, poppler for PDFs.
APT_PACKAGES := chromium poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench e2e install system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Installs the Debian packages listed above when any is missing (needs apt-get, and sudo unless root).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	  else echo "warning: please install$$missing with your package manager" >&2; fi; \
	fi

run: $(STAMP)
	MONITOR_ENV=development $(BIN)/monitor dev-setup
	MONITOR_ENV=development $(BIN)/flask --app monitor run --host $(HOST) --port $(PORT)

test: $(STAMP) system-deps
	$(BIN)/pytest

e2e: $(STAMP) system-deps
	$(BIN)/pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff check monitor workers tests bench
	$(BIN)/ruff format --check monitor workers tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
