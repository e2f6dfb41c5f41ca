# case monitor — every target installs what it needs first.
# `make run` serves the demo on http://127.0.0.1:5000; `make test` runs the whole suite.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Debian packages for PDF dossiers: Pango (WeasyPrint's text layout), the Noto fonts (Khmer,
# Burmese, Arabic), HarfBuzz subsetting (about 9x faster font embedding than the fontTools
# fallback) and poppler to read PDFs back. The tests also need Chromium for the browser test.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core libharfbuzz-subset0 poppler-utils
APT_PACKAGES := chromium $(PDF_PACKAGES)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Links in emails and the printed login address follow HOST and PORT unless MONITOR_BASE_URL is set.
# 127.0.0.1 is named localhost there: passkeys (WebAuthn) take a domain name, never an IP address.
BASE_HOST := $(if $(filter 127.0.0.1,$(HOST)),localhost,$(HOST))
DEV_ENV := MONITOR_ENV=development MONITOR_BASE_URL=$${MONITOR_BASE_URL:-http://$(BASE_HOST):$(PORT)}

.PHONY: run test lint bench e2e install system-deps axe clean messages catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m monitor.catalogs compile
	touch $(STAMP)

install: $(STAMP) catalogs

# The message catalogs: monitor/translations/<language>/LC_MESSAGES/messages.po, compiled to .mo
# files (not committed) whenever a .po is newer. `make messages` extracts every marked string
# from monitor/ and templates/ (babel.cfg) and adds the new ones, empty, to each catalog.
CATALOGS := $(wildcard monitor/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

$(COMPILED): %.mo: %.po | $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

catalogs: $(COMPILED)

messages: $(STAMP)
	$(BIN)/python -m monitor.catalogs messages

# Installs the Debian packages listed above when any is missing (needs apt-get, and sudo unless root).
system-deps:
	@missing=""; for p in $(or $(PACKAGES),$(APT_PACKAGES)); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	  else echo "warning: please install$$missing with your package manager" >&2; fi; \
	fi

# The web server, and a Celery worker with beat embedded (it renders PDF dossiers, sends the
# alerts, and its beat sweeps what a broker outage left pending) that stops with it. The broker is
# the SQLite file under instance/ unless MONITOR_REDIS_URL is set. The trap also covers Ctrl-C
# (INT): a background job ignores it, and the shell runs an EXIT-only trap on a normal exit only.
run: $(STAMP) catalogs
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(PDF_PACKAGES)"
	$(DEV_ENV) $(BIN)/monitor dev-setup
	$(DEV_ENV) $(BIN)/celery -A workers worker --beat --concurrency=1 \
	  --loglevel=warning & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/flask --app monitor run --host $(HOST) --port $(PORT)

# axe-core, the accessibility checker the browser tests run in Chromium: the version pinned in
# package.json / package-lock.json, installed by npm into node_modules/ (Node.js and npm come with
# the machine; Debian's npm package is installed when they do not).
AXE := node_modules/axe-core/axe.min.js

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || $(MAKE) --no-print-directory system-deps PACKAGES=npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

axe: $(AXE)

test: $(STAMP) catalogs system-deps $(AXE)
	$(BIN)/pytest

e2e: $(STAMP) catalogs system-deps $(AXE)
	$(BIN)/pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff check monitor workers tests bench
	$(BIN)/ruff format --check monitor workers tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules
