# Two commands on a fresh machine:  make run   (embedded: SQLite, no other services)
#                                   make test  (the whole suite; PostgreSQL/Redis/SMTP/Chromium when present)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test install lint format migrate seed worker beat bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	@echo "Serving on http://127.0.0.1:5000  (demo logins are listed above)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Two pytest workers by default (xdist); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15 $(PYTEST_ARGS)

# ruff (lint and format) over everything; mypy over foundation/, config.py and bench/ (settings in pyproject.toml).
lint: install
	$(BIN)/ruff check foundation tests bench config.py
	$(BIN)/ruff format --check foundation tests bench config.py
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix foundation tests bench config.py
	$(BIN)/ruff format foundation tests bench config.py

worker: install
	$(BIN)/celery -A make_celery worker --loglevel=info

beat: install
	$(BIN)/celery -A make_celery beat --loglevel=info

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
