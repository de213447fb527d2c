#!/usr/bin/env bash
# Benchmarks (figures printed, never asserted): set-up, then every section, or the ones named:
#   compile chain fan cached large-dag compare sqlite images server compile-pool kubernetes replicas incremental foreach foreach-kubernetes   (dev/src/bench)
#   dag-layout    the DAG panel's layout in Node (extension/bench)
#   jupyterlab    JupyterLab start-up with and without the extension, the DAG panel's layout +
#                 render in a real JupyterLab and Chromium (ui-tests/bench)
#   dag-ui        first-DAG and edit-to-DAG times at 6 and 200 tasks, as a user waits for them
#                 in a real JupyterLab and Chromium (ui-tests/bench/dag-edit.js)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh
bash scripts/setup.sh
core=()
ui=()
for section in "$@"; do
  case "$section" in
    dag-layout | jupyterlab | dag-ui) ui+=("$section") ;;
    *) core+=("$section") ;;
  esac
done
all=$(($# == 0))
wants() { ((all)) || [[ " ${ui[*]:-} " == *" $1 "* ]]; }
if ((all || ${#core[@]} > 0)); then
  # The benches live in the dev-only workspace, which the set-up does not build.
  npx --no-install tsc -b dev
  node dev/dist/bench/index.js "${core[@]}"
fi
if wants dag-layout; then
  echo "dag-layout:"
  npm run --silent bench --prefix extension
fi
if wants jupyterlab; then
  echo "jupyterlab:"
  npm run --silent bench --prefix ui-tests
fi
if wants dag-ui; then
  echo "dag-ui:"
  node ui-tests/bench/dag-edit.js
fi
