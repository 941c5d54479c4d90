# mcp-orch: two commands for a newcomer (python3 and make only)
#   make demo   set up, then run the whole lifecycle in a sandbox workspace (.sandbox/)
#   make test   set up, then run lint, types and the whole test suite (what CI runs)
#   make clients  install the real MCP clients the acceptance suite asks (scripts/ci-clients.sh)
#   make docs   build the documentation site (mkdocs, strict) into site/

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint types unit system clients schemas bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,notebook,docs]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python scripts/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mcp_orch.domain.clients.generate --check
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_imports.py

types: setup
	$(BIN)/mypy

system:
	scripts/ci-system-deps.sh

clients:
	scripts/ci-clients.sh

unit: setup clients
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --cov=mcp_orch --cov-report=term:skip-covered

test: system clients lint types unit

schemas: setup
	$(BIN)/python -m mcp_orch.domain.clients.generate

# the documentation site, strict, into site/ (notebooks executed afresh, in a sandbox)
docs: setup
	MCP_ORCH_DOCS_CACHE=false NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

bench: setup
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_release.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/pinning.py
	$(BIN)/python bench/pull.py

clean:
	rm -rf $(VENV) .cache .sandbox site .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage
