#!/usr/bin/env bash
# The one test command (README, CI): set-up, then every test suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh
bash scripts/setup.sh
# No test leaves a detached compile daemon behind (docs/cli-speed.md); its own tests turn it on.
export CELLGRAPH_COMPILE_DAEMON="${CELLGRAPH_COMPILE_DAEMON:-off}"
# Test files are outside the packages' builds: type-check them too (jest only transpiles).
npx --no-install tsc -p tsconfig.tests.json
# Unit, integration and end-to-end tests (jest): schema, kernel-lib, server, examples.
npx --no-install jest --ci
# The JupyterLab extension: its unit tests and the UI tests in a real JupyterLab + Chromium.
bash scripts/ui-test.sh
