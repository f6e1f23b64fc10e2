#!/usr/bin/env bash
# Set up .venv (edgecc + onnxruntime as the reference) and run edgecc on its bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ref
export TVM_NUM_THREADS="${TVM_NUM_THREADS:-$(nproc)}"
exec .venv/bin/edgecc demo "$@"
