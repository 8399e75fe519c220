# One command each, on a fresh machine:
#   make serve   start the server on an embedded SQLite file (./fieldsync.db)
#   make test    install everything the tests need and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test system-deps bench

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/fieldsync serve

system-deps:
	bash scripts/system-deps.sh

test: system-deps $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
