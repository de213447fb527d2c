#!/usr/bin/env bash
# The UI tests (assumes scripts/setup.sh ran): extension unit tests, the Python package's tests
# (how it finds the cellgraph CLI), then Playwright/Galata against a real JupyterLab (started
# and stopped by Playwright) in Debian's Chromium, the JupyterHub project (users signed in to a
# real Hub, working against a production server as themselves), and the install-outside project: cellgraph
# installed from its packed artifacts into a fresh directory and venv (slow: a few minutes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm test --prefix extension --silent
.venv/bin/python -m unittest discover -s cellgraph_jupyterlab/tests -t .
cd ui-tests
# Playwright only transpiles the tests: type-check them first.
npx --no-install tsc -p tsconfig.json
npx --no-install playwright test || { echo "UI tests failed; report: ui-tests/playwright-report/index.html" >&2; exit 1; }
# JupyterHub sign-in: a real Hub and a production server signing its users in (hub/setup.js
# loads the dev services' build), three users in Chromium (~3-4 min on a busy 2-core machine).
(cd .. && npx --no-install tsc -b dev)
npx --no-install playwright test -c hub.config.js || { echo "JupyterHub UI test failed; report: ui-tests/playwright-report-hub/index.html" >&2; exit 1; }
npx --no-install playwright test -c install-outside.config.js || { echo "install-outside UI test failed; report: ui-tests/playwright-report-install/index.html" >&2; exit 1; }
