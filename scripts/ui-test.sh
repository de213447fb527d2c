#!/usr/bin/env bash
# The UI tests (assumes scripts/setup.sh ran): extension unit tests, then Playwright/Galata
# against a real JupyterLab (started and stopped by Playwright) in Debian's Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm test --prefix extension --silent
cd ui-tests
# Playwright only transpiles the tests: type-check them first.
npx --no-install tsc -p tsconfig.json
npx --no-install playwright test || { echo "UI tests failed; report: ui-tests/playwright-report/index.html" >&2; exit 1; }
