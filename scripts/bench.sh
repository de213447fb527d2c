#!/usr/bin/env bash
# Benchmarks (figures printed, never asserted): set-up, then the core benchmarks.
# Pass section names to run some only: compile chain fan cached large-dag images server kubernetes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
node server/dist/bench/index.js "$@"
