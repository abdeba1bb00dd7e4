# Urban Model Server — `make run` starts a server with a demo worker, `make test` runs the tests.

# The newest Python >= 3.12 on PATH that runs (pyenv shims exist for inactive versions too);
# override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test lint format check-deploy bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt ums_worker/pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 not found on PATH; run make PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e ./ums_worker
	@touch $@

run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py run_demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production settings must pass Django's deployment checks.
check-deploy: install
	DEBUG=0 SECRET_KEY=$$(openssl rand -hex 32) ALLOWED_HOSTS=ums.example.org UMS_HTTPS=1 \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# Benchmarks against pygeoapi and a bare Daphne (docs/performance.md). Needs PostgreSQL and
# Redis on 127.0.0.1; BENCH_ARGS="--quick" checks the harness in seconds.
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
