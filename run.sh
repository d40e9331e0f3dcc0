#!/usr/bin/env bash
# One entry point that sets itself up on a fresh machine (only Python 3 and the package
# registries needed): installs the Debian packages it needs when run as root, creates .venv,
# installs the project when pyproject.toml changed, then
#   ./run.sh app    starts the app (http://localhost:8501)
#   ./run.sh test   lint, format check, then the test suite (extra pytest arguments are passed on;
#                   -m slow runs the long variants, which are left out by default)
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv
what="${1:-app}"
shift || true
case "$what" in
  app | test) ;;
  *)
    echo "usage: ./run.sh app|test [args...]" >&2
    exit 2
    ;;
esac

# ---- Debian packages --------------------------------------------------------------------------
# package, what shows it is installed, what is unavailable without it
packages=(dataset-fashion-mnist)
present=(/usr/share/datasets/fashion-mnist)
purpose=("the Fashion-MNIST data set is unavailable")
if [ "$what" = test ]; then
  packages+=(chromium)
  present+=(/usr/bin/chromium)
  purpose+=("the browser tests (tests/browser) fail")
fi
missing=()
for i in "${!packages[@]}"; do
  [ -e "${present[$i]}" ] || missing+=("$i")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  names=()
  for i in "${missing[@]}"; do names+=("${packages[$i]}"); done
  echo "Installing Debian packages: ${names[*]}..."
  # The package lists of a fresh machine are empty: update only when something is installed.
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${names[@]}" >/dev/null; then
    missing=()
  else
    still=()
    for i in "${missing[@]}"; do [ -e "${present[$i]}" ] || still+=("$i"); done
    missing=("${still[@]+"${still[@]}"}")
  fi
fi
for i in "${missing[@]+"${missing[@]}"}"; do
  echo "${packages[$i]} is not installed: ${purpose[$i]} (apt-get install ${packages[$i]})" >&2
done

# ---- the project --------------------------------------------------------------------------------
# The extras installed with the project: the tests' tools, Ray (the ray executor and its
# tests) and the deploy converters (ONNX export; ONNX and LiteRT runtimes for its tests).
# KERAS_DESIGNER_EXTRAS=test installs without them; the Ray and deploy tests then fail.
extras="${KERAS_DESIGNER_EXTRAS:-test,ray,deploy}"
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

case "$what" in
  app)
    # The app's own modules compiled once (a machine with PYTHONDONTWRITEBYTECODE set would
    # compile them again at every start, a tenth of a second of the first page).
    "$venv/bin/python" -m compileall -q designer ui pages >/dev/null || true
    exec "$venv/bin/python" -m streamlit run app.py "$@"
    ;;
  test)
    # Lint and formatting first: a failure stops here, with ruff's own report.
    code=(designer ui pages tests tools app.py)
    if ! "$venv/bin/ruff" check "${code[@]}"; then
      echo "ruff check failed (see above): nothing else was run" >&2
      exit 1
    fi
    if ! "$venv/bin/ruff" format --check "${code[@]}"; then
      echo "ruff format --check failed: run '$venv/bin/ruff format ${code[*]}'" >&2
      exit 1
    fi
    # Two workers (one per core), whole files per worker so module fixtures are built once; the
    # slowest tests are listed at the end, to keep the suite short.
    if [ $# -eq 0 ]; then set -- -n 2 --dist loadfile --durations=15; fi
    exec "$venv/bin/python" -m pytest "$@"
    ;;
esac
