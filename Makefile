# The two commands of the README: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The oldest Airflow the provider supports; `make test-lowest` runs the suite against it.
AIRFLOW_LOWEST ?= 3.1.8
VENV_LOWEST := .venv-airflow-$(AIRFLOW_LOWEST)

.PHONY: install demo test test-lowest lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest

$(VENV_LOWEST)/.installed: pyproject.toml
	test -x $(VENV_LOWEST)/bin/python || $(PYTHON) -m venv $(VENV_LOWEST)
	$(VENV_LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LOWEST)/bin/python -m pip install --quiet "apache-airflow==$(AIRFLOW_LOWEST)" -e '.[test]'
	touch $@

test-lowest: $(VENV_LOWEST)/.installed
	$(VENV_LOWEST)/bin/python -m pytest

# `make dist` builds the wheel and sdist into dist/ and checks them with twine, then runs
# `make check-dist`: the wheel's files and metadata, and a fresh virtual environment with only the
# wheel and its dependencies (Airflow; about a minute) in which Airflow must list the provider.
.PHONY: dist check-dist e2e

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(MAKE) --no-print-directory check-dist

check-dist: $(STAMP)
	$(BIN)/python scripts/check_wheel.py dist

# `make e2e` drives the connection form in Airflow's web UI with headless Chromium (tests/e2e,
# left out of `make test`), installing Debian's chromium and Playwright for Python when missing.
e2e: $(STAMP)
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m pip install --quiet playwright
	$(BIN)/python -m pytest -m e2e tests/e2e

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# `make bench` prints one table per benchmark of benchmarks/ (a few minutes). The HTTP provider, a
# contender, is installed into .venv here only: it is no dependency of the package or of `make test`.
# Link settings go through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--rtt-ms 40 --rounds 9"`.
bench: $(STAMP)
	$(BIN)/python -c 'import airflow.providers.http' 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet apache-airflow-providers-http
	$(BIN)/python benchmarks/throughput.py $(BENCH_ARGS) \
		&& $(BIN)/python benchmarks/paging.py $(BENCH_ARGS) \
		&& $(BIN)/python benchmarks/parse.py $(BENCH_ARGS) \
		&& $(BIN)/python benchmarks/tokens.py

clean:
	rm -rf .airflow-demo bitcapital-reports build dist *.egg-info .venv-airflow-*
