# Cầu Nối — the commands a developer and CI use. `make run` and `make test` are the two that matter.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install run test test-fast test-integration test-e2e lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Bring the whole system up on this machine (RabbitMQ and PostgreSQL on localhost); Ctrl-C stops it.
## `make run AT=2026-12-01T23:00+07:00` runs it as if at that instant.
run: install
	$(PY) -m scripts.dev $(if $(AT),--at $(AT))

## The whole test suite (needs RabbitMQ and PostgreSQL on localhost, as .ci/run makes sure).
test: install
	$(PY) -m pytest

## Unit tests only: no PostgreSQL, RabbitMQ or SMTP needed, a few seconds (the list is in tests/conftest.py).
test-fast: install
	$(PY) -m pytest -m unit -q

## Integration tests: each component against the real PostgreSQL and RabbitMQ, in-process.
test-integration: install
	$(PY) -m pytest -m "not unit and not e2e and not fault"

## End-to-end and fault tests: the services as real processes, broker and database cut on purpose.
test-e2e: install
	$(PY) -m pytest -m "e2e or fault"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Benchmarks against bare references (< 15 min on 2 cores); BENCH_ARGS="--write" records the run in BENCHMARKS.md.
bench: install
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk >/dev/null 2>&1 || sudo -n apt-get install -y wrk >/dev/null 2>&1 \
		|| echo "wrk could not be installed: the Python load generator measures intake (slower, see BENCHMARKS.md)"
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .run
