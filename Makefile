# Two commands matter: `make run` (the whole local stack with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# checkov pins boto3/botocore against ours, so it lives in its own virtualenv inside .venv.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# schemathesis (API contract fuzzing) and hypothesis are pytest plugins: in .venv they would
# load into every test run, so they get their own virtualenv too.
SCHEMATHESIS_VENV := $(VENV)/schemathesis
SCHEMATHESIS_STAMP := $(SCHEMATHESIS_VENV)/.installed
# aws-sam-cli (the `sam build` proof in tests/infra/test_sam_build.py) pins boto3, cfn-lint and
# aws-sam-translator against ours: its own virtualenv too.
SAM_VENV := $(VENV)/sam
SAM_STAMP := $(SAM_VENV)/.installed

.PHONY: run test test-unit test-integration test-e2e test-browser test-infra install venvs lint \
	clean bench monitoring chaos diagram haproxy chromium web

$(VENV)/pyvenv.cfg:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(VENV)/pyvenv.cfg
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV_STAMP): infra/sam/checkov-constraints.txt | $(VENV)/pyvenv.cfg
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -c infra/sam/checkov-constraints.txt checkov
	@touch $(CHECKOV_STAMP)

$(SCHEMATHESIS_STAMP): tests/contract/schemathesis-constraints.txt | $(VENV)/pyvenv.cfg
	@test -x $(SCHEMATHESIS_VENV)/bin/python || $(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet -c tests/contract/schemathesis-constraints.txt schemathesis
	@touch $(SCHEMATHESIS_STAMP)

$(SAM_STAMP): infra/sam/sam-constraints.txt | $(VENV)/pyvenv.cfg
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -c infra/sam/sam-constraints.txt aws-sam-cli
	@touch $(SAM_STAMP)

install: $(STAMP)

# HAProxy stands in for the ALBs in the local stack: install it when missing and we are root.
haproxy:
	@if command -v haproxy >/dev/null || test -x /usr/sbin/haproxy; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing haproxy (the local load balancers)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy \
	    </dev/null >/dev/null; \
	else \
	  echo "haproxy is missing; the local load balancers need it: sudo apt-get install haproxy"; \
	  exit 1; \
	fi

# The booking page's browser tests drive Debian's chromium (Playwright's own browser download
# needs the internet): install it when missing and we are root.
CHROMIUM := /usr/bin/chromium
chromium:
	@if test -x $(CHROMIUM); then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium (the browser tests of the booking page)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    </dev/null >/dev/null; \
	else \
	  echo "chromium is missing; the browser tests need it: sudo apt-get install chromium"; \
	  exit 1; \
	fi

# The page as the deploy uploads it (hashed asset names), in build/web.
web: $(STAMP)
	$(VENV)/bin/itinera web build --out build/web

run: $(STAMP) haproxy
	$(VENV)/bin/itinera run

# The four virtualenvs are independent: build them side by side (pip mostly waits on I/O).
venvs:
	@$(MAKE) --no-print-directory -j4 $(STAMP) $(CHECKOV_STAMP) $(SCHEMATHESIS_STAMP) $(SAM_STAMP)

# Every tier, in two lanes side by side (tests/conftest.py says which test runs in which);
# the README's and CI's command.
LANES := -n 2
test: venvs haproxy chromium
	$(VENV)/bin/pytest $(LANES)

# One tier at a time, each with only the setup it needs (tests/conftest.py marks the tiers).
# Unit tests reach no server: every server address points at a closed port, so one that tried
# would fail.
CLOSED_PORTS := DB_HOST=127.0.0.1 DB_PORT=9 REDIS_URL=redis://127.0.0.1:9/0 \
	AWS_ENDPOINT_URL=http://127.0.0.1:9 INVENTORY_URL=http://127.0.0.1:9
test-unit: $(STAMP)
	env $(CLOSED_PORTS) $(VENV)/bin/pytest -m unit tests/unit

test-integration: $(STAMP) haproxy
	$(VENV)/bin/pytest -m integration tests/integration

test-e2e: $(STAMP) $(SCHEMATHESIS_STAMP) haproxy
	$(VENV)/bin/pytest $(LANES) -m e2e tests/e2e

test-browser: $(STAMP) haproxy chromium
	$(VENV)/bin/pytest -m browser tests/e2e

test-infra: $(STAMP) $(CHECKOV_STAMP) $(SAM_STAMP)
	$(VENV)/bin/pytest -m infra tests/infra

# Rewrite the alarms, dashboard and their parameters in infra/sam/monitoring.yaml from dashboards/alarms.yaml.
monitoring: $(STAMP)
	$(VENV)/bin/itinera render monitoring

# Rewrite the FIS experiment templates in infra/sam/chaos.yaml from chaos/experiments/.
chaos: $(STAMP)
	$(VENV)/bin/itinera render chaos

# Redraw docs/architecture.png (committed, so `make test` never needs graphviz).
diagram: $(STAMP)
	@command -v dot >/dev/null || { apt-get update -qq && apt-get install -y -qq graphviz; }
	$(VENV)/bin/python docs/diagram.py

# Search, holds and checkout through a private stack, next to their references (wrk).
bench: $(STAMP) haproxy
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } || { echo "install wrk: apt-get install -y wrk"; exit 1; }
	$(VENV)/bin/itinera bench

# lint-imports checks the import rules in pyproject.toml; it takes a fraction of a second, so it
# runs without a cache (no cache folder in the tree).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy itinera gateway inventory checkout notifier localaws loadtests chaos dashboards operations cli
	$(VENV)/bin/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache *.egg-info
