# The two commands of the README:  make demo  |  make test
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: demo test bootstrap lint audit lock unit integration

bootstrap:
	./scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/hotline sandbox up
	$(VENV)/hotline db upgrade
	$(VENV)/hotline directory import directory/sample.csv --replace
	$(VENV)/hotline knowledge import knowledge/sample.yaml
	HOTLINE_HOME_DISTRICT=$${HOTLINE_HOME_DISTRICT:-万州区} \
	HOTLINE_TLS_CERT=$${HOTLINE_TLS_CERT:-$${HOTLINE_HOME:-var}/tls/console.crt} \
	HOTLINE_TLS_KEY=$${HOTLINE_TLS_KEY:-$${HOTLINE_HOME:-var}/tls/console.key} \
	$(VENV)/hotline serve

lint: bootstrap
	$(VENV)/ruff check hotline tests bench
	$(VENV)/mypy

# pip-audit over requirements.lock, offline, against requirements.audit.json (scripts/audit.py)
audit: bootstrap
	$(VENV)/python scripts/audit.py check

# With the network: the lock from pyproject.toml (hashes of every file), then the advisories
# snapshot that `make audit` checks it against.
lock:
	$(VENV)/uv pip compile pyproject.toml --extra dev --extra asr --generate-hashes \
	  --python-version 3.11 --quiet -o requirements.lock
	$(VENV)/python scripts/audit.py refresh

test: bootstrap lint audit
	./scripts/test.sh
