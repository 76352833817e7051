# Front door of the course. Every target sets up .venv from requirements.txt first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUBMISSIONS ?= examples/submissions
OUT ?= _build/grading
export PATH := $(CURDIR)/$(BIN):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help setup browser release book test grade lint format clean

help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(STAMP) ## Create or update .venv from requirements.txt

browser: ## Install Debian's chromium for the browser tests, when it is missing
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$COURSE_CHROMIUM" ] || { \
	  echo "Installing Debian's chromium for the browser tests (apt-get install chromium)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null \
	  || { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null; } \
	  || echo "Could not install chromium: the browser tests will fail (set COURSE_CHROMIUM=/path/to/chrome)"; }

release: $(STAMP) ## Regenerate book/ and solutions/reference.py from solutions/
	$(BIN)/python -m autograder release

book: release ## Build the HTML book into _build/html
	$(BIN)/python -m autograder book

test: $(STAMP) browser ## Lint, then run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

grade: release ## Grade a class: make grade [SUBMISSIONS=folder-or-zip] [OUT=folder]
	$(BIN)/python -m autograder grade $(SUBMISSIONS) --out $(OUT)

lint: $(STAMP) ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove build outputs (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache
