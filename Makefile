# Comment Desk. `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# Where the app listens: this machine only. Another address (0.0.0.0: every interface) needs
# sign-in (an identity provider or DESK_PASSWORD); without it the app refuses to start.
ADDRESS ?= 127.0.0.1
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
# The sign-in tests' identity provider runs on Node.js (>= 18) and installs with npm: the one on
# PATH, else Debian's, installed with apt.
NPM      := $(or $(shell command -v npm),/usr/bin/npm)
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test test-fast test-e2e bench lint sandbox clean

# The venv is rebuilt only when the requirement files change.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The sign-in tests' identity provider (Node's oidc-provider), into a folder the tests own.
OIDC := tests/e2e/oidc
$(OIDC)/node_modules/.package-lock.json: $(OIDC)/package.json $(OIDC)/package-lock.json | $(NPM)
	$(NPM) ci --prefix $(OIDC) --no-audit --no-fund --loglevel=error

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

$(NPM):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm

run: $(VENV)/.runtime
	$(BIN)/python -m desk check-serving --address $(ADDRESS)
	$(BIN)/streamlit run Home.py --server.port $(PORT) --server.address $(ADDRESS) $(STREAMLIT_ARGS)

# Two workers: CI's two cores (every server a test needs is its own, on a free port).
test: $(VENV)/.dev $(CHROMIUM) $(NPM) $(OIDC)/node_modules/.package-lock.json
	$(BIN)/python -m pytest -n 2

test-e2e: $(VENV)/.dev $(CHROMIUM) $(NPM) $(OIDC)/node_modules/.package-lock.json
	$(BIN)/python -m pytest tests/e2e

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not slow and not e2e"

# `make bench` runs every benchmark; `make bench sync store` only those named (the names after
# `bench` are passed on, and are no targets of their own).
BENCH_NAMES := $(if $(filter bench,$(firstword $(MAKECMDGOALS))),$(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS)))
bench: $(VENV)/.dev
	$(BIN)/python -m bench $(BENCH_NAMES)
ifneq ($(BENCH_NAMES),)
$(BENCH_NAMES):
	@:
endif

lint: $(VENV)/.dev
	$(BIN)/ruff check .

sandbox: $(VENV)/.runtime
	$(BIN)/python -m tiktok_sandbox --host 127.0.0.1 --port 8765

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(OIDC)/node_modules
