#!/usr/bin/env bash
# The main job: the demo's set-up only (scripts/setup.sh demo: Node 24, npm packages, the
# build), then run the iris example on the embedded default (local executor, filesystem
# store under examples/iris/.cellgraph, SQLite). Extra arguments go to `cellgraph run`,
# e.g. `npm run demo -- -p k=7`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh
bash scripts/setup.sh demo
node server/bin/cellgraph run examples/iris/iris.ipynb "$@"
