#!/usr/bin/env bash
# Builds the offline mirror for provision.sh --offline DIR (e.g. onto a USB stick):
#
#   DIR/app/hadir-app.tar.gz     the app with node_modules for the target CPU
#   DIR/node/node-v*-linux-*.tar.xz + SHASUMS256.txt
#   DIR/models/                  face models (sha256-verified against models/manifest.json)
#   DIR/debs/*.deb               chrony, cage, chromium, fswebcam and all their dependencies
#   DIR/SHA256SUMS               checked by provision.sh before it installs anything
#
# node_modules and .deb files are CPU-specific: run this on a Raspberry Pi (arm64) with internet
# and the same OS image as the kiosks. Docs: docs/technician.md.
set -euo pipefail
umask 022

SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="$(cd "$SELF_DIR/.." && pwd)"
readonly SELF_DIR SRC_DIR
readonly PKGS=(chrony cage chromium fswebcam ca-certificates xz-utils)

OUT=""
NODE_VERSION="20.19.5"
NODE_TARBALL=""
MODELS_FROM=""
APP=1
DEBS=1
ALLOW_FOREIGN=0

usage() {
  cat <<'EOF'
Pemakaian / usage: make-mirror.sh --out DIR [options]

  --out DIR              where to build the mirror (e.g. /media/usb/hadir-mirror)
  --node-version V       Node.js version to download (default 20.19.5)
  --node-tarball FILE    use this node-v*-linux-*.tar.xz|.tar.gz instead of downloading
  --models-from DIR|URL  copy the models from here (default: their pinned sources online)
  --no-app               leave out the app (e.g. to refresh only models)
  --no-debs              leave out the .deb packages
  --allow-foreign-arch   build on a non-arm64 machine anyway (its node_modules/.debs will not run on a Pi)
EOF
}
die() { printf 'make-mirror: GAGAL / FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --node-version) NODE_VERSION="${2:?}"; shift 2 ;;
    --node-tarball) NODE_TARBALL="${2:?}"; shift 2 ;;
    --models-from) MODELS_FROM="${2:?}"; shift 2 ;;
    --no-app) APP=0; shift ;;
    --no-debs) DEBS=0; shift ;;
    --allow-foreign-arch) ALLOW_FOREIGN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[ -n "$OUT" ] || { usage >&2; die "--out is required"; }
[ -z "$NODE_TARBALL" ] || [ -f "$NODE_TARBALL" ] || die "--node-tarball $NODE_TARBALL does not exist"
command -v node > /dev/null || die "node is needed to fetch and verify the models"
[ -d "$SRC_DIR/node_modules" ] || die "run npm ci in $SRC_DIR first"

machine="$(uname -m)"
if [ "$machine" != "aarch64" ] && { [ "$APP" -eq 1 ] || [ "$DEBS" -eq 1 ]; } && [ "$ALLOW_FOREIGN" -eq 0 ]; then
  die "this is $machine, not arm64: node_modules and .deb files would not run on a Pi (run on a Pi, or use --no-app --no-debs, or --allow-foreign-arch)"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
mkdir -p "$OUT/node" "$OUT/models"

step "Node.js"
if [ -n "$NODE_TARBALL" ]; then
  cp -f "$NODE_TARBALL" "$OUT/node/"
  (cd "$OUT/node" && sha256sum "$(basename "$NODE_TARBALL")" > SHASUMS256.txt)
else
  f="node-v$NODE_VERSION-linux-arm64.tar.xz"
  if [ ! -f "$OUT/node/$f" ]; then
    curl -fsSL -o "$OUT/node/$f.part" "https://nodejs.org/dist/v$NODE_VERSION/$f"
    curl -fsSL -o "$OUT/node/SHASUMS256.all" "https://nodejs.org/dist/v$NODE_VERSION/SHASUMS256.txt"
    grep " $f\$" "$OUT/node/SHASUMS256.all" > "$OUT/node/SHASUMS256.txt"
    rm -f "$OUT/node/SHASUMS256.all"
    mv "$OUT/node/$f.part" "$OUT/node/$f"
  fi
  (cd "$OUT/node" && sha256sum -c --quiet SHASUMS256.txt) || die "Node.js download does not match its published sha256"
fi
printf '    %s\n' "$(ls "$OUT/node")"

step "Model wajah / face models"
models_args=(models fetch --dir "$OUT/models")
[ -z "$MODELS_FROM" ] || models_args+=(--from "$MODELS_FROM")
HADIR_LOG_LEVEL=warn node "$SRC_DIR/bin/hadir.mjs" "${models_args[@]}"
HADIR_LOG_LEVEL=warn node "$SRC_DIR/bin/hadir.mjs" models verify --dir "$OUT/models"

if [ "$APP" -eq 1 ]; then
  step "Aplikasi / app (git HEAD + npm ci --omit=dev)"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  (cd "$SRC_DIR" && git archive --format=tar HEAD) | tar -xf - -C "$stage"
  (cd "$stage" && npm ci --omit=dev --no-audit --no-fund)
  mkdir -p "$OUT/app"
  tar -czf "$OUT/app/hadir-app.tar.gz.part" -C "$stage" .
  mv "$OUT/app/hadir-app.tar.gz.part" "$OUT/app/hadir-app.tar.gz"
  (cd "$SRC_DIR" && git rev-parse HEAD) > "$OUT/app/COMMIT"
fi

if [ "$DEBS" -eq 1 ]; then
  step "Paket .deb / .deb packages: ${PKGS[*]} + dependencies"
  mkdir -p "$OUT/debs"
  # The whole dependency closure (not only what this machine lacks): the kiosk image may lack more.
  mapfile -t all < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${PKGS[@]}" | grep -E '^[a-z0-9]' | sort -u)
  (cd "$OUT/debs" && apt-get download "${all[@]}")
fi

step "SHA256SUMS"
sums="$(mktemp)"
(cd "$OUT" && find . -type f ! -name SHA256SUMS ! -name '*.part' -print0 | sort -z | xargs -0 sha256sum) > "$sums"
mv "$sums" "$OUT/SHA256SUMS"
chmod 0644 "$OUT/SHA256SUMS"
printf '    %s files, %s\n' "$(wc -l < "$OUT/SHA256SUMS")" "$(du -sh "$OUT" | cut -f1)"
printf '\nmake-mirror: SELESAI / DONE: %s\n' "$OUT"
