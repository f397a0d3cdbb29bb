# Two commands matter: `make run` (the whole local stack with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# checkov pins boto3/botocore against ours, so it lives in its own virtualenv inside .venv.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: run test install lint clean bench monitoring diagram

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV_STAMP): infra/sam/checkov-constraints.txt $(STAMP)
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -c infra/sam/checkov-constraints.txt checkov
	@touch $(CHECKOV_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/itinera run

test: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/pytest

# Rewrite the alarms and dashboard section of infra/sam/template.yaml from dashboards/alarms.yaml.
monitoring: $(STAMP)
	$(VENV)/bin/python dashboards/render.py

# Redraw docs/architecture.png (committed, so `make test` never needs graphviz).
diagram: $(STAMP)
	@command -v dot >/dev/null || { apt-get update -qq && apt-get install -y -qq graphviz; }
	$(VENV)/bin/python docs/diagram.py

# Cached search and holds/s next to a bare aiohttp endpoint (seeds a large bench DB once).
bench: $(STAMP)
	$(VENV)/bin/itinera bench inventory

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy itinera gateway inventory checkout notifier loadtests

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache *.egg-info
