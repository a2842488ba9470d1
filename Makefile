# Every command CI runs is a target here; `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
# make test fails below this line coverage of authz_service (docs/decisions/025-tests.md says how it was set)
COVERAGE_FLOOR := 85
# make test's pytest-xdist workers, one per core of CI's 2 (docs/decisions/040-ci-time.md); TEST_WORKERS=0 runs in one process
TEST_WORKERS ?= 2
# The benchmarks, each named after what it measures; bench/bare_app.py and bench/peers_cerbos.py are helpers.
BENCHES := decide link_changes request_cpu serve_throughput decision_log_cost log_integrity customers_page access_search peers analysis console_pages log_retention otlp_export
# wrk for bench/serve_throughput.py, installed with apt-get where it can be; without it that bench skips.
INSTALL_WRK = command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq wrk) >/dev/null 2>&1 || echo "wrk could not be installed: bench/serve_throughput.py will skip"

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench bench-quick screenshots soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the pinned dependencies and the client package
$(STAMP): pyproject.toml constraints.txt clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e 'clients/python[flask]'
	touch $(STAMP)

run: install ## load the demo data, print the demo key (reused), serve on $(HOST):$(PORT)
	$(BIN)/authz demo --check-port --host $(HOST) --port $(PORT)
	$(BIN)/authz serve --host $(HOST) --port $(PORT)

test: install ## policy check (invariants proven, lint clean) and decision tables, then the whole pytest suite on $(TEST_WORKERS) processes with coverage and its floor
	$(BIN)/authz policy check
	$(BIN)/authz policy test
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --cov=authz_service --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

lint: install ## ruff, mypy over the package (pyproject's [tool.mypy]) and the client (--strict), vulture (nothing dead), and the committed permission matrix must match the policy
	$(BIN)/ruff check authz_service tests bench clients/python
	$(BIN)/mypy authz_service
	$(BIN)/mypy --strict clients/python/src
	$(BIN)/vulture
	$(BIN)/authz policy matrix --check

bench: install ## every benchmark in full, each printing ratios measured in one run
	@$(INSTALL_WRK)
	@set -e; for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py; done

bench-quick: install ## every benchmark's smoke run (--quick: seconds each, no timing asserted)
	@$(INSTALL_WRK)
	@set -e; for b in $(BENCHES); do echo "== bench/$$b.py --quick"; $(BIN)/python bench/$$b.py --quick; done

screenshots: install ## regenerate docs/screenshots/ with the browser tests (needs chromium)
	@test -x /usr/bin/chromium || { echo "chromium is absent: apt-get install -y chromium"; exit 1; }
	AUTHZ_WRITE_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser

soak: install ## the reliability and security suites, 10x longer, with their summary table
	AUTHZ_SOAK=10 $(BIN)/pytest -q tests/reliability tests/security

clean: ## remove the virtualenv, the demo database and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
