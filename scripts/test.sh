#!/usr/bin/env bash
# Set up .venv with the test dependencies and run the default test suite (pytest args pass on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export TVM_NUM_THREADS="${TVM_NUM_THREADS:-$(nproc)}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
# pytest exits 5 when it collected no test: that is a failure here, as any non-zero exit.
exec .venv/bin/python -m pytest "$@"
