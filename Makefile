# Two commands do all the set-up: `make run` starts the bot, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run worker test lint messages install install-dev clean

$(VENV)/.stamp-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt $(VENV)/.stamp-runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.stamp-runtime

install-dev: $(VENV)/.stamp-dev

## Start the bot (polling and scheduler); needs only TELEGRAM_BOT_TOKEN, SQLite by default.
run: install
	$(PY) bot.py

## Start a worker: scheduler and publishers only, no polling (for extra processes on MongoDB).
worker: install
	$(PY) bot.py worker

## Lint, check the formatting, type-check, then run the whole suite against SQLite and the
## MongoDB stand-in (four workers on two cores: most of it waits on timers and other processes).
test: install-dev
	bash scripts/install-congodb.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -n 4

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

## Bring every language's catalogue (locales/) up to date with the code, then say what is untranslated.
messages: install
	$(PY) scripts/messages.py update
	$(PY) scripts/messages.py check

clean:
	rm -rf $(VENV) .congodb .pytest_cache .mypy_cache .ruff_cache
