#!/usr/bin/env bash
# Flask's own test suite run against erlen (public-API scope by default), through the shared
# flask-suite runner (an import shim aliasing `flask` to `erlen` in the test code only).
#   make flask-suite                          # the headline number: public scope, Flask 3.1.3
#   FLASK_SUITE_SCOPE=all scripts/flask-suite.sh -k "not test_run_ and not passthrough_errors \
#       and not templates_auto_reload_debug_run"   # every file; without that -k, the tests that
#       mock werkzeug.serving.run_simple start erlen's real server through app.run() and hang
#   scripts/flask-suite.sh tests/test_basic.py -k server_name   # extra args go to pytest
# The Flask sdist (its tests/ folder is the suite) is downloaded once into the cache folder.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
suite="${FLASK_SUITE_DIR:-/work/shared/flask-suite}"
version="${FLASK_VERSION:-3.1.3}"
cache="${FLASK_SUITE_CACHE:-$here/.venv/flask-suite-cache}"
py="${PY:-$here/.venv/bin/python}"
if [ ! -f "$suite/run.sh" ]; then
  echo "flask-suite: runner not found in $suite (set FLASK_SUITE_DIR)" >&2
  exit 2
fi
sdist="$cache/flask-$version.tar.gz"
if [ ! -f "$sdist" ]; then
  mkdir -p "$cache"
  "$py" -m pip download -q "flask==$version" --no-binary :all: --no-deps -d "$cache"
fi
export FLASK_SDIST="$sdist" PY="$py"
export FLASK_SUITE_SCOPE="${FLASK_SUITE_SCOPE:-public}"
export FLASK_SUITE_LOG="${FLASK_SUITE_LOG:-${TMPDIR:-/tmp}/flask-suite-erlen.log}"
exec bash "$suite/run.sh" erlen "$@"
