# The two set-up commands: `make demo` and `make test`. Both create or reuse .venv in the repo root.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.s3safe-installed

# first Python >= 3.11 on PATH (or under pyenv); override with `make PYTHON=/path/to/python3.12`
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11 $$HOME/.pyenv/versions/3.1[1-9]*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: awscli install demo test lint typecheck unit functional cli localstack system-deps bench clean

# Debian packages the test suite uses: strace (proves LocalStack makes no outside connection),
# age (the stock CLI for interoperability tests), tmux (drives `s3safe shell` in a real terminal),
# chromium (headless, renders the HTML audit report offline). Installed only when missing.
DEB_PACKAGES := strace age tmux chromium

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found; install it or pass PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

# the stock AWS CLI, in its own venv (its pinned botocore must not move ours): the README's restore
# recipe is tested with it
AWSCLI := .venv-awscli/bin/aws
$(AWSCLI):
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found" >&2; exit 1; }
	$(PYTHON) -m venv .venv-awscli
	.venv-awscli/bin/python -m pip install --quiet awscli
awscli: $(AWSCLI)

localstack:
	bash scripts/localstack-venv.sh

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

demo: install
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check src tests scripts $(wildcard bench)

typecheck: install
	$(BIN)/mypy

# pytest-xdist processes for `make test`: each starts its own servers (LocalStack ~0.5 GB), so 2 by default;
# the tests wait on child processes and servers more than on one core, and 2 halve the suite's time on 2 cores
TEST_WORKERS ?= 2

test: install system-deps localstack awscli lint typecheck
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) tests

unit: install
	$(BIN)/python -m pytest -q tests/unit

functional: install system-deps localstack
	$(BIN)/python -m pytest -q tests/functional

cli: install system-deps awscli
	$(BIN)/python -m pytest -q tests/cli

# on demand only; see bench/README.md
bench: install
	$(BIN)/python bench/run.py --no-large

clean:
	rm -rf $(VENV) .venv-localstack .venv-awscli .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
