# The two commands the README promises work on a fresh machine: `make demo` and `make test`.
# Each creates .venv the first time: `make demo` with the bot alone (install-app), `make test` (and `make install`,
# which CI runs) with the test toolchain too (pytest, Playwright, ruff, mypy: most of the download).
# Both take a lock (flock) around the install, so starting them together in a fresh clone installs once.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8080
# Without flock (macOS) the install runs unlocked: start one of them first there.
LOCKED := $(shell command -v flock >/dev/null 2>&1 && echo flock $(VENV).lock)

.PHONY: install install-app demo test lint bench clean

install:
	@$(LOCKED) $(MAKE) --no-print-directory $(VENV)/.installed-test

install-app:
	@$(LOCKED) $(MAKE) --no-print-directory $(VENV)/.installed-app

$(VENV)/.installed-app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-app

## Run the bundled sandbox (a local VK with a demo stream) and the bot; open the printed URL.
## The bot's demo database (fsm_bot_sandbox.db) starts clean each time, like the sandbox's people.
demo: install-app
	$(BIN)/fsm-bot sandbox --port $(PORT)

## Run the whole test suite (about 37 minutes on 2 cores with PostgreSQL, less with SQLite alone).
## PostgreSQL tests run when FSM_BOT_TEST_DATABASE_URL is set; skips are summed up by reason at the end.
test: install
	@echo "== the whole suite: about 37 minutes on 2 cores with PostgreSQL, less with SQLite alone"
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Every benchmark at its tiny --smoke size (seconds each; records nothing). Full runs: see each script's docstring.
bench: install
	$(BIN)/pytest tests/test_benches.py -q

clean:
	rm -rf $(VENV) $(VENV).lock .pytest_cache fsm_bot.db fsm_bot.db-wal fsm_bot.db-shm \
		fsm_bot_sandbox.db fsm_bot_sandbox.db-wal fsm_bot_sandbox.db-shm
