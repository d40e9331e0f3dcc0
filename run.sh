#!/usr/bin/env bash
# One entry point that sets itself up on a fresh machine (only Python 3 and the package
# registries needed): creates .venv, installs the project when pyproject.toml changed, then
#   ./run.sh app    starts the app (http://localhost:8501)
#   ./run.sh test   runs the whole test suite (extra pytest arguments are passed on)
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv
# The extras installed with the project: the tests' tools and Ray (so the ray executor's tests
# run rather than skip). KERAS_DESIGNER_EXTRAS=test installs without Ray.
extras="${KERAS_DESIGNER_EXTRAS:-test,ray}"
stamp="$venv/.installed-$( (cat pyproject.toml; echo "$extras") | sha1sum | cut -c1-12)"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "Installing Keras Designer and its dependencies into $venv (first run only)..."
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e ".[$extras]"
  rm -f "$venv"/.installed-* && touch "$stamp"
fi
what="${1:-app}"
shift || true
case "$what" in
  app)
    exec "$venv/bin/python" -m streamlit run app.py "$@"
    ;;
  test)
    # Browser tests need Debian's Chromium; install it when we can (root with apt), else they skip.
    if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      echo "Installing Debian's chromium for the browser tests..."
      (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium: browser tests will be skipped"
    fi
    # Two workers (one per core), whole files per worker so module fixtures are built once.
    if [ $# -eq 0 ]; then set -- -n 2 --dist loadfile; fi
    exec "$venv/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh app|test [args...]" >&2
    exit 2
    ;;
esac
