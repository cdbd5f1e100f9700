# erlen: `make demo` runs the demo app, `make test` runs lint, types and the whole test suite.
# Both set everything up from a fresh clone (a virtualenv in .venv with the dev extras).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000

.PHONY: install system-deps demo example test lint typecheck pytest bench bench-quick flask-suite extension-suites clean

$(STAMP): pyproject.toml scripts/vendor_npm.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python scripts/vendor_npm.py --quiet
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: install
	cd examples/demo && ../../$(BIN)/python app.py --port $(PORT)

# one example app: `make example NAME=todo` (examples/<NAME>/app.py; its README says more)
example: install
	cd examples/$(NAME) && ../../$(BIN)/python app.py --port $(PORT)

lint: install
	$(BIN)/ruff check src tests examples bench

typecheck: install
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/python -m pytest

test: lint typecheck pytest

# everything (in-process, startup/RSS; gunicorn, uvicorn and granian + wrk over loopback; ~8 min
# on 2 cores), then the README's benchmark block is rewritten from the results
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench --loopback --readme
	$(BIN)/python -m bench.batteries --readme
	$(BIN)/python -m bench.asgi --loopback 5
	$(BIN)/python -m bench.api --loopback 5

bench-quick: install
	$(BIN)/python -m bench --quick --out /tmp/erlen-bench-quick

# Flask 3.1.3's own tests against erlen (public-API scope; ~3 s; not part of `make test`).
# The sdist is cached in .venv/flask-suite-cache; FLASK_SUITE_DIR points to the runner.
flask-suite: install
	bash scripts/flask-suite.sh

# The Flask extensions' own test suites against erlen's batteries (scripts/extension_suite.py;
# sdists cached in .venv/extension-suite-cache; ~1 min; not part of `make test`).
extension-suites: install
	$(BIN)/python scripts/extension_suite.py --all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
