# hotline — two commands do everything on a fresh Debian 12 (as root): `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the Asterisk build is cached outside the work tree, by version: only the first run pays for it
HOTLINE_CACHE ?= /var/cache/hotline
ASTERISK_VERSION ?= 22.10.1
export HOTLINE_CACHE

.PHONY: help run up down status deps system asterisk venv lint unit integration e2e test bench clean

help:
	@echo "make run    install what is missing, set up, start everything (foreground; Ctrl-C stops)"
	@echo "make up     the same in the background, returns once ready; make down stops it"
	@echo "make test   every test: lint, unit, integration (PostgreSQL), end-to-end (Asterisk + SIPp + Chromium)"
	@echo "make bench  benchmarks (figures and ratios)"

deps: system asterisk venv

system:
	@bash scripts/install-system.sh

asterisk: system
	@CACHE=$(HOTLINE_CACHE) PIN=$(ASTERISK_VERSION) LINK=$(CURDIR)/var/asterisk bash scripts/build-asterisk.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "[python] installing the project and its pinned dependencies into $(VENV)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

run: deps
	$(BIN)/hotline run

up: deps
	$(BIN)/hotline up

down:
	$(BIN)/hotline down

status:
	$(BIN)/hotline status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q tests/unit

integration: system venv
	$(BIN)/pytest -q tests/integration

e2e: deps
	$(BIN)/pytest -q tests/e2e

test: deps lint
	$(BIN)/pytest -q tests

bench: deps
	$(BIN)/python -m bench.run

clean:
	rm -rf var $(VENV) .pytest_cache .ruff_cache .mypy_cache
