# The two commands the README promises work on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs the project (with its test extra) the first time.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the bundled sandbox (a local VK with a demo stream) and the bot; open the printed URL.
demo: install
	$(BIN)/fsm-bot sandbox

## Run the whole test suite. PostgreSQL tests run when FSM_BOT_TEST_DATABASE_URL is set.
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Every benchmark at its tiny --smoke size (seconds each; records nothing). Full runs: see each script's docstring.
bench: install
	$(BIN)/pytest tests/test_benches.py -q

clean:
	rm -rf $(VENV) .pytest_cache fsm_bot.db fsm_bot.db-wal fsm_bot.db-shm
