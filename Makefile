# Two commands matter: `make run` (the whole local stack with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test install lint clean bench

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/itinera run

test: $(STAMP)
	$(VENV)/bin/pytest

# Cached search and holds/s next to a bare aiohttp endpoint (seeds a large bench DB once).
bench: $(STAMP)
	$(VENV)/bin/itinera bench inventory

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy itinera gateway inventory checkout notifier

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache *.egg-info
