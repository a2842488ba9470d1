# Every command CI runs is a target here; `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the pinned dependencies and the client package
$(STAMP): pyproject.toml constraints.txt clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e 'clients/python[flask]'
	touch $(STAMP)

run: install ## load the demo data, print the demo key (reused), serve on $(HOST):$(PORT)
	$(BIN)/authz demo --host $(HOST) --port $(PORT)
	$(BIN)/authz serve --host $(HOST) --port $(PORT)

test: install ## policy check and decision tables, then the whole pytest suite
	$(BIN)/authz policy check
	$(BIN)/authz policy test
	$(BIN)/pytest -q

lint: install ## ruff, mypy over the client package, and the committed permission matrix must match the policy
	$(BIN)/ruff check authz_service tests bench clients/python
	$(BIN)/mypy --strict clients/python/src
	$(BIN)/authz policy matrix --check

bench: install ## benchmarks, each printing ratios measured in one run
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk) >/dev/null || echo "wrk could not be installed: bench/http.py will say so"
	$(BIN)/python bench/decide.py
	$(BIN)/python bench/links.py
	$(BIN)/python bench/http_stack.py
	$(BIN)/python bench/http.py

soak: install ## the reliability and security suites, 10x longer, with their summary table
	AUTHZ_SOAK=10 $(BIN)/pytest -q tests/reliability tests/security

clean: ## remove the virtualenv, the demo database and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
