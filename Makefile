# HyperSend: `make run` starts it on the embedded defaults, `make test` checks everything.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test system-packages lint typecheck unit bench clean apk

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[app]"
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The server on http://127.0.0.1:8000 and the app's web version on http://127.0.0.1:8550.
run: $(VENV)/.installed
	$(BIN)/hypersend app --web --port 8550 & trap 'kill $$!' EXIT; $(BIN)/hypersend serve

test: system-packages lint typecheck unit

# Chromium, nginx, openssl, redis-server, PostgreSQL and Node.js, which the tests run for real
# (installed as root).
system-packages:
	bash scripts/system-packages.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/pytest

# The Android app (needs the Flutter and Android SDKs: see the README's "Android app").
apk: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet "flet-cli==1.0.5"
	$(BIN)/python app/stage.py
	cd app && ../$(BIN)/flet build apk

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
