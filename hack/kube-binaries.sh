#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler 1.20.2 from Debian bookworm's `kubernetes` source package
# and caches them (plus a link to Debian's etcd) OUTSIDE the repository, for the real-control-plane tests (testkit module).
#
# Why build from source: no Docker/kind/k3s can run on the CI machine and only package registries are reachable, so the
# binaries cannot be downloaded. See docs/platform.md, "Real control plane for tests".
#
# Idempotent: when all binaries are already in the cache it only checks them and exits. Needs root (apt) on Debian 12.
#   FINETUNE_KUBE_BIN   cache dir for the binaries (default ~/.cache/finetune-kube/1.20.2/bin)
#   FINETUNE_KUBE_WORK  build dir for the sources   (default ~/.cache/finetune-kube/1.20.2/build; removed after success
#                       unless FINETUNE_KUBE_KEEP_SRC=true)
set -euo pipefail

KUBE_VERSION=1.20.2
CACHE_ROOT="${HOME}/.cache/finetune-kube/${KUBE_VERSION}"
BIN_DIR="${FINETUNE_KUBE_BIN:-${CACHE_ROOT}/bin}"
WORK_DIR="${FINETUNE_KUBE_WORK:-${CACHE_ROOT}/build}"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler)
START=$(date +%s)

log() { echo "[kube-binaries +$(( $(date +%s) - START ))s] $*"; }

have_all() {
  local c
  for c in "${COMPONENTS[@]}" etcd; do
    [[ -x "${BIN_DIR}/${c}" ]] || return 1
  done
}

if have_all; then
  log "cached binaries present in ${BIN_DIR}: $("${BIN_DIR}/kube-apiserver" --version 2>/dev/null || echo '?')"
  exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# --- 1. packages -----------------------------------------------------------------------------------------------------
PKGS=(golang-go rsync jq etcd-server openssl make dpkg-dev ca-certificates
      golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev)
SRC_LIST=/etc/apt/sources.list.d/finetune-bookworm-src.sources
apt_updated=false
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding a deb-src entry for bookworm (${SRC_LIST})"
  as_root tee "${SRC_LIST}" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  apt_updated=true
  # etcd-server's maintainer script would start a daemon where an init system exists; we only want the binary.
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v etcd >/dev/null || { echo "etcd not found after installing etcd-server" >&2; exit 1; }

# --- 2. sources ------------------------------------------------------------------------------------------------------
mkdir -p "${WORK_DIR}" "${BIN_DIR}"
SRC_DIR=$(find "${WORK_DIR}" -maxdepth 1 -type d -name "kubernetes-*" | head -n1 || true)
if [[ -z "${SRC_DIR}" || ! -f "${SRC_DIR}/.finetune-patched" ]]; then
  rm -rf "${WORK_DIR:?}"/*
  $apt_updated || as_root apt-get update -qq
  log "apt-get source kubernetes (${KUBE_VERSION})"
  (cd "${WORK_DIR}" && apt-get source -qq kubernetes >/dev/null)
  SRC_DIR=$(find "${WORK_DIR}" -maxdepth 1 -type d -name "kubernetes-*" | head -n1)
  [[ -n "${SRC_DIR}" ]] || { echo "apt-get source kubernetes produced no source tree in ${WORK_DIR}" >&2; exit 1; }
  grep -q "${KUBE_VERSION}" "${SRC_DIR}/debian/changelog" \
    || { echo "unexpected kubernetes source version: $(head -1 "${SRC_DIR}/debian/changelog")" >&2; exit 1; }
  # Go 1.19 + vendored reflect2 1.0.1 => SIGSEGV on the first custom resource. Use Debian's reflect2 1.0.2 / json-iterator 1.1.12.
  log "replacing vendored reflect2 / json-iterator with Debian's packaged versions"
  for pair in "github.com/modern-go/reflect2" "github.com/json-iterator/go"; do
    [[ -d "/usr/share/gocode/src/${pair}" ]] || { echo "missing /usr/share/gocode/src/${pair}" >&2; exit 1; }
    rm -rf "${SRC_DIR}/vendor/${pair}"
    mkdir -p "${SRC_DIR}/vendor/${pair}"
    cp -a "/usr/share/gocode/src/${pair}/." "${SRC_DIR}/vendor/${pair}/"
    find "${SRC_DIR}/vendor/${pair}" -name '*_test.go' -delete
  done
  touch "${SRC_DIR}/.finetune-patched"
fi

# --- 3. build (GOPATH mode, static) -----------------------------------------------------------------------------------
cd "${SRC_DIR}"
mkdir -p .go/src/k8s.io
ln -sfn "${SRC_DIR}" .go/src/k8s.io/kubernetes
cat > .finetune-version <<EOF
KUBE_GIT_VERSION='v${KUBE_VERSION}'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
KUBE_GIT_COMMIT='debian-src'
KUBE_GIT_TREE_STATE='clean'
EOF
export GOPATH="${SRC_DIR}/.go" GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOCACHE="${CACHE_ROOT}/gocache"
export KUBE_GIT_VERSION_FILE="${SRC_DIR}/.finetune-version"
log "go: $(go version); building ${COMPONENTS[*]} (several minutes on 2 cores)"
cd .go/src/k8s.io/kubernetes
WHAT=""
for c in "${COMPONENTS[@]}"; do WHAT+="cmd/${c} "; done
make WHAT="${WHAT% }" >"${WORK_DIR}/build.log" 2>&1 || { tail -n 60 "${WORK_DIR}/build.log" >&2; exit 1; }

for c in "${COMPONENTS[@]}"; do
  out=$(find "${SRC_DIR}/_output" -type f -name "${c}" -perm -u+x | head -n1)
  [[ -n "${out}" ]] || { echo "build produced no ${c}; see ${WORK_DIR}/build.log" >&2; exit 1; }
  install -m 0755 "${out}" "${BIN_DIR}/${c}"
done
ln -sfn "$(command -v etcd)" "${BIN_DIR}/etcd"
log "built: $("${BIN_DIR}/kube-apiserver" --version); etcd $(etcd --version | head -n1)"

if [[ "${FINETUNE_KUBE_KEEP_SRC:-false}" != true ]]; then
  rm -rf "${WORK_DIR}" "${CACHE_ROOT}/gocache"
fi
log "done: binaries in ${BIN_DIR}"
