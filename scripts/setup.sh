#!/usr/bin/env bash
# Installs what cellgraph needs, idempotently, for one of two profiles:
#   demo  (`npm run demo`): what a local run needs: Node 24, the npm packages and the
#         TypeScript build (steps 1-3, Debian's compiler toolchain only). No JupyterLab venv,
#         no kube-apiserver, no Chromium, no extension or UI tests.
#   all   (default; `npm test`, `npm run bench`): everything, steps 1-7.
# A second run does nothing that is already done (stamp files record what was installed).
#   usage: bash scripts/setup.sh [demo|all]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
log() { printf '[setup] %s\n' "$*" >&2; }
PROFILE="${1:-all}"
case "$PROFILE" in
  demo | all) ;;
  *) log "unknown profile \"$PROFILE\": demo or all"; exit 2 ;;
esac
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# 1. Debian packages (only what is missing; apt-get update once, only then). The demo needs
# only the toolchain native addons (better-sqlite3) compile with. postgresql: the tests' private
# clusters (initdb + pg_ctl from /usr/lib/postgresql/<v>/bin; the package's own cluster is unused).
DEBS=(g++ make python3)
if [ "$PROFILE" = all ]; then DEBS+=(python3-venv curl docker-registry skopeo umoci buildah chromium postgresql); fi
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
npm_stamp="$(hash_of package-lock.json package.json schema/package.json kernel-lib/package.json server/package.json examples/package.json dev/package.json) $(node --version)"
if [ "$(cat node_modules/.cellgraph-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  log "installing npm packages (npm ci)"
  # node-gyp compiles a native addon's sources in parallel (better-sqlite3: most of a cold install).
  JOBS=max npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > node_modules/.cellgraph-stamp
fi

# 3. Build the TypeScript packages (incremental: nothing to do when sources are unchanged).
log "building schema, kernel-lib, server"
npx --no-install tsc -b schema kernel-lib server
# The compile daemon's startup snapshot (docs/cli-speed.md) with the README's notebooks
# compiled in it, so the first `cellgraph validate` after setup is not a cold compile: a file
# in the user's cache (built once per build, ~15 s at nice 10), no daemon left running.
node server/bin/cellgraph daemon prepare examples/iris/iris.ipynb examples/hello/hello.ipynb >&2 || log "no compile daemon snapshot (the first compile is only slower)"
if [ "$PROFILE" = demo ]; then
  log "ready for the demo (bash scripts/setup.sh, which npm test runs, installs the rest)"
  exit 0
fi

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
# JupyterHub (the Hub sign-in tests): a file of its own, so adding it does not rebuild the venv.
hub_stamp="$(hash_of scripts/requirements-hub.txt) $venv_stamp"
if [ "$(cat .venv/.cellgraph-hub-stamp 2>/dev/null)" != "$hub_stamp" ]; then
  log "installing JupyterHub into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-hub.txt
  echo "$hub_stamp" > .venv/.cellgraph-hub-stamp
fi
# The kernelspecs start tslab with Node 24 by absolute path: tslab's `#!/usr/bin/env node`
# would pick whatever node comes first on the PATH of the shell JupyterLab was started from.
.venv/bin/python - "$(command -v node)" "$ROOT/node_modules/tslab/bin/tslab" <<'EOF'
import json, pathlib, sys
node, tslab = sys.argv[1:]
for name, extra in (('tslab', []), ('jslab', ['--js'])):
    spec_file = pathlib.Path(sys.prefix, 'share', 'jupyter', 'kernels', name, 'kernel.json')
    spec = json.loads(spec_file.read_text())
    argv = [node, tslab, 'kernel', '--config-path', '{connection_file}', *extra]
    if spec['argv'] != argv:
        spec['argv'] = argv
        spec_file.write_text(json.dumps(spec, sort_keys=True))
EOF

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
