#!/usr/bin/env bash
# Installs everything cellgraph needs, idempotently: Debian packages, npm packages, the
# TypeScript build, and a Python venv (.venv) with JupyterLab and the tslab kernel.
# A second run does nothing that is already done (stamp files record what was installed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
log() { printf '[setup] %s\n' "$*" >&2; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# 1. Debian packages (only what is missing; apt-get update once, only then). postgresql: the tests'
#    private clusters (initdb + pg_ctl from /usr/lib/postgresql/<v>/bin; the package's own cluster is unused).
DEBS=(g++ make python3 python3-venv curl docker-registry skopeo umoci buildah chromium postgresql)
missing=()
for p in "${DEBS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} > 0)); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Node 24 LTS (scripts/node.sh), then npm packages. Native addons (better-sqlite3) compile
# against the installed Node's headers: no header download, which this network would refuse.
source scripts/node.sh
if [ -z "${npm_config_nodedir:-}" ] && [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
npm_stamp="$(hash_of package-lock.json package.json schema/package.json kernel-lib/package.json server/package.json examples/package.json) $(node --version)"
if [ "$(cat node_modules/.cellgraph-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > node_modules/.cellgraph-stamp
fi

# 3. Build the TypeScript packages (incremental: nothing to do when sources are unchanged).
log "building schema, kernel-lib, server"
npx --no-install tsc -b schema kernel-lib server

# 4. Python venv with JupyterLab, and the tslab kernel registered into it.
venv_stamp="$(hash_of scripts/requirements.txt) $(python3 --version 2>&1) $ROOT"
if [ "$(cat .venv/.cellgraph-stamp 2>/dev/null)" != "$venv_stamp" ]; then
  log "creating the Python venv with JupyterLab (.venv)"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  # The kernel runs this repository's tslab, so notebooks resolve @cellgraph/kernel from here.
  node_modules/.bin/tslab install --python="$ROOT/.venv/bin/python" --sys-prefix --binary="$ROOT/node_modules/.bin/tslab" >/dev/null
  echo "$venv_stamp" > .venv/.cellgraph-stamp
fi

# 5. A real Kubernetes control plane for the Kubernetes tests: kube-apiserver built from the
# Go module proxy and Debian's etcd-server, cached outside the repository by version (the
# first build takes ~8 min; scripts/build-kube.sh says what it does).
kube_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' scripts/kube/go.mod)"
kube_dir="${CELLGRAPH_KUBE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cellgraph/kube/$kube_version}"
if [ ! -x "$kube_dir/kube-apiserver" ] || [ ! -x "$kube_dir/etcd" ]; then
  log "building kube-apiserver $kube_version and getting etcd (scripts/build-kube.sh)"
  bash scripts/build-kube.sh
fi
# 6. The JupyterLab extension: its own npm project (JupyterLab's packages pin their own
# TypeScript), built into a prebuilt labextension inside the Python package
# cellgraph_jupyterlab, which is installed (editable) into .venv with its jupyter-server-proxy
# entry point. Rebuilt only when its sources, the schema or the venv changed.
ext_stamp="$(hash_of extension/package-lock.json extension/package.json extension/tsconfig.json extension/src/*.ts extension/src/*/*.ts extension/style/* extension/schema/* schema/src/*.ts pyproject.toml install.json cellgraph_jupyterlab/__init__.py .venv/.cellgraph-stamp)"
if [ "$(cat .venv/.cellgraph-extension-stamp 2>/dev/null)" != "$ext_stamp" ]; then
  log "building the JupyterLab extension and installing it into .venv"
  npm ci --prefix extension --no-audit --no-fund --loglevel=error
  # @jupyter/builder (JupyterLab 4.6's successor of @jupyterlab/builder) bundles it with Rspack.
  (cd extension && npx --no-install tsc -p tsconfig.json && npm run --silent build:labextension >/dev/null)
  .venv/bin/pip install --quiet --disable-pip-version-check -e .
  echo "$ext_stamp" > .venv/.cellgraph-extension-stamp
fi

# 7. UI tests: Playwright and Galata (Chromium comes from Debian, step 1).
ui_stamp="$(hash_of ui-tests/package-lock.json ui-tests/package.json) $(node --version)"
if [ "$(cat ui-tests/node_modules/.cellgraph-stamp 2>/dev/null)" != "$ui_stamp" ]; then
  log "installing the UI tests' npm packages"
  npm ci --prefix ui-tests --no-audit --no-fund --loglevel=error
  echo "$ui_stamp" > ui-tests/node_modules/.cellgraph-stamp
fi
log "ready"
