# The two commands of the README:  make demo  |  make test
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: demo test bootstrap lint unit integration

bootstrap:
	./scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/hotline sandbox up
	$(VENV)/hotline db upgrade
	$(VENV)/hotline directory import directory/sample.csv --replace
	HOTLINE_HOME_DISTRICT=$${HOTLINE_HOME_DISTRICT:-万州区} \
	HOTLINE_TLS_CERT=$${HOTLINE_TLS_CERT:-$${HOTLINE_HOME:-var}/tls/console.crt} \
	HOTLINE_TLS_KEY=$${HOTLINE_TLS_KEY:-$${HOTLINE_HOME:-var}/tls/console.key} \
	$(VENV)/hotline serve

lint: bootstrap
	$(VENV)/ruff check hotline tests bench
	$(VENV)/mypy

test: bootstrap lint
	./scripts/test.sh
