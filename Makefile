# Mnemo: `make run` starts the bot on the embedded store; `make test` runs every check.
# The first Python >= 3.13 found: on PATH, else under pyenv (whose shims may point elsewhere).
PYTHON ?= $(shell for p in python3.13 python3.14 $(HOME)/.pyenv/versions/3.1[3-9]*/bin/python3 python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null && { command -v "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean chromium

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required: install it or set PYTHON=/path/to/python3.13"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mnemo run

test: $(STAMP) lint typecheck chromium
	$(BIN)/pytest -q

# The inspector's browser tests drive Debian's Chromium (nothing downloads a browser).
chromium:
	command -v chromium || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) || echo "chromium could not be installed: the browser tests will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
