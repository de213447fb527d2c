#!/usr/bin/env bash
# Provides the real Kubernetes control plane the tests start (server/src/dev-services/kube-apiserver.ts):
#   - kube-apiserver, built from the Go module proxy (scripts/kube: a module requiring
#     k8s.io/kubernetes with its staging modules pinned by `replace`), and
#   - etcd, from Debian's etcd-server package.
# Both land in ${XDG_CACHE_HOME:-~/.cache}/cellgraph/kube/<kubernetes version>/ (outside the
# repository, keyed by version and by a hash of scripts/kube/go.{mod,sum} and the Go version),
# so CI builds once. Idempotent: a second run only checks the stamp and exits.
# Cold build here (2 cores): ~8 min, ~123 MiB of module downloads; needs Go >= 1.21.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[build-kube] %s\n' "$*" >&2; }

KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' scripts/kube/go.mod)"
[ -n "$KUBE_VERSION" ] || { log "scripts/kube/go.mod does not require k8s.io/kubernetes"; exit 1; }
OUT="${CELLGRAPH_KUBE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cellgraph/kube/$KUBE_VERSION}"

# Go >= 1.21 (Debian bookworm's golang-go is 1.19: install from go.dev/dl); a 1.21 go
# fetches the 1.22 toolchain go.mod asks for from the module proxy by itself.
command -v go >/dev/null || { log "Go >= 1.21 is required to build kube-apiserver (go.dev/dl)"; exit 1; }
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "$go_minor" -ge 21 ] 2>/dev/null || { log "Go >= 1.21 is required to build kube-apiserver, found $(go env GOVERSION) (go.dev/dl)"; exit 1; }
stamp="$KUBE_VERSION $(cat scripts/kube/go.mod scripts/kube/go.sum | sha256sum | cut -c1-16) $(go env GOVERSION)"

# etcd: Debian's etcd-server (3.4.x on bookworm) speaks the v3 API kube-apiserver needs.
if ! command -v etcd >/dev/null; then
  log "installing Debian's etcd-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi
mkdir -p "$OUT"
ln -sf "$(command -v etcd)" "$OUT/etcd"

if [ -x "$OUT/kube-apiserver" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "kube-apiserver $KUBE_VERSION is cached in $OUT"
  exit 0
fi

minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
# What `make` would stamp into the binary (hack/lib/version.sh), so /version reports the release.
pkgs=(k8s.io/component-base/version k8s.io/client-go/pkg/version)
ldflags="-s -w"
for p in "${pkgs[@]}"; do
  ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

log "building kube-apiserver $KUBE_VERSION into $OUT (first time: ~8 min on 2 cores, ~123 MiB of Go modules)"
start=$(date +%s)
tmp="$OUT/kube-apiserver.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
  cd scripts/kube
  # -mod=mod: the module has no vendor directory; go.sum pins every checksum.
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver
)
mv "$tmp" "$OUT/kube-apiserver"
echo "$stamp" > "$OUT/.stamp"
log "built $("$OUT/kube-apiserver" --version) in $(( $(date +%s) - start )) s ($(du -h "$OUT/kube-apiserver" | cut -f1)); etcd: $("$OUT/etcd" --version | head -1)"
