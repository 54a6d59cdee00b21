#!/usr/bin/env bash
# Builds the offline mirror for provision.sh --offline DIR (e.g. onto a USB stick):
#
#   DIR/app/hadir-app.tar.gz     the app with node_modules for the target CPU
#   DIR/node/node-v*-linux-*.tar.xz + SHASUMS256.txt   (or Node from Debian's nodejs .deb: --node-from-debs)
#   DIR/models/                  face models (sha256-verified against models/manifest.json)
#   DIR/debs/*.deb               chrony, cage, chromium, fswebcam, espeak-ng and all their dependencies
#   DIR/provisioning/            provision.sh and its files (run from the stick: DIR/provisioning/provision.sh --offline DIR)
#   DIR/SHA256SUMS               checked by provision.sh before it installs anything
#
# node_modules and .deb files are CPU-specific. On a Raspberry Pi (arm64) with internet they are
# this machine's. On an x86 Debian machine, --arch arm64 builds the Pi's mirror: .debs for arm64
# from the Debian mirror with a private apt state (nothing added to this machine's apt), npm
# packages for linux-arm64 (prebuilt binaries where the packages ship them) and the native addons
# cross-compiled with Debian's aarch64 toolchain against the headers of Debian's arm64 Node.
# Docs: docs/technician.md.
set -euo pipefail
umask 022

SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="$(cd "$SELF_DIR/.." && pwd)"
readonly SELF_DIR SRC_DIR
PKGS=(chrony cage chromium fswebcam espeak-ng ca-certificates xz-utils)
# Native addons without an arm64 binary in their npm package (the others ship prebuilds/ or bin/).
readonly CROSS_ADDONS=(better-sqlite3 unix-dgram epoll)

OUT=""
NODE_VERSION="20.19.5"
NODE_TARBALL=""
MODELS_FROM=""
APP=1
DEBS=1
ALLOW_FOREIGN=0
ARCH=""
SUITE=""
DEB_MIRROR=""
NODE_FROM_DEBS=0
CACHE="${HADIR_MIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hadir-mirror}"

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
  --arch arm64           build for this Debian architecture; on x86: .debs via a private apt state,
                         native addons cross-compiled (needs g++-aarch64-linux-gnu); implies --node-from-debs
  --suite S              Debian suite of the kiosks' OS for the .debs (default with --arch: trixie)
  --debian-mirror URL    Debian mirror (default: the one this machine's apt uses)
  --node-from-debs       Node.js from Debian's nodejs package (in debs/) instead of a nodejs.org tarball
  --cache DIR            downloads kept between runs (default ~/.cache/hadir-mirror, $HADIR_MIRROR_CACHE)
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
    --arch) ARCH="${2:?--arch needs a Debian architecture (arm64)}"; shift 2 ;;
    --suite) SUITE="${2:?--suite needs a Debian suite}"; shift 2 ;;
    --debian-mirror) DEB_MIRROR="${2:?--debian-mirror needs a URL}"; shift 2 ;;
    --node-from-debs) NODE_FROM_DEBS=1; shift ;;
    --cache) CACHE="${2:?--cache needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[ -n "$OUT" ] || { usage >&2; die "--out is required"; }
[ -z "$NODE_TARBALL" ] || [ -f "$NODE_TARBALL" ] || die "--node-tarball $NODE_TARBALL does not exist"
command -v node > /dev/null || die "node is needed to fetch and verify the models"
[ -d "$SRC_DIR/node_modules" ] || die "run npm ci in $SRC_DIR first"

machine="$(uname -m)"
host_arch="$(dpkg --print-architecture 2> /dev/null || echo "$machine")"
CROSS=0
if [ -n "$ARCH" ] && [ "$ARCH" != "$host_arch" ]; then
  [ "$ARCH" = arm64 ] || die "--arch $ARCH: only arm64 (the Pi) can be built on another machine"
  CROSS=1
  NODE_FROM_DEBS=1
  [ -n "$SUITE" ] || SUITE=trixie
  if [ "$APP" -eq 1 ] && ! command -v aarch64-linux-gnu-g++ > /dev/null; then
    die "aarch64-linux-gnu-g++ missing: apt-get install g++-aarch64-linux-gnu"
  fi
elif [ "$machine" != "aarch64" ] && { [ "$APP" -eq 1 ] || [ "$DEBS" -eq 1 ]; } && [ "$ALLOW_FOREIGN" -eq 0 ]; then
  die "this is $machine, not arm64: node_modules and .deb files would not run on a Pi (use --arch arm64, run on a Pi, or use --no-app --no-debs, or --allow-foreign-arch)"
fi
[ "$NODE_FROM_DEBS" -eq 0 ] || PKGS+=(nodejs)
if [ -z "$DEB_MIRROR" ]; then
  DEB_MIRROR="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2> /dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
  DEB_MIRROR="${DEB_MIRROR:-http://deb.debian.org/debian}"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
mkdir -p "$OUT/models"

# apt for the target architecture and suite with its own state under the cache: this machine's
# apt configuration, lists and dpkg database are not touched.
APTDIR="$CACHE/apt-${SUITE:-native}-${ARCH:-$host_arch}"
apt_target() {
  apt-get -q -o Dir="$APTDIR" -o Dir::State::status="$APTDIR/var/lib/dpkg/status" \
    -o APT::Architecture="$ARCH" -o APT::Architectures::="$ARCH" -o APT::Sandbox::User=root \
    -o Dir::Etc::trusted=/etc/apt/trusted.gpg -o Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d "$@"
}
if [ "$CROSS" -eq 1 ]; then
  mkdir -p "$APTDIR/etc/apt/apt.conf.d" "$APTDIR/etc/apt/preferences.d" "$APTDIR/etc/apt/sources.list.d" \
    "$APTDIR/var/lib/apt/lists/partial" "$APTDIR/var/cache/apt/archives/partial" "$APTDIR/var/lib/dpkg"
  [ -f "$APTDIR/var/lib/dpkg/status" ] || : > "$APTDIR/var/lib/dpkg/status"
  printf 'deb [arch=%s] %s %s main\n' "$ARCH" "$DEB_MIRROR" "$SUITE" > "$APTDIR/etc/apt/sources.list"
  step "apt $SUITE/$ARCH ($DEB_MIRROR)"
  apt_target update > /dev/null || die "apt-get update for $SUITE/$ARCH from $DEB_MIRROR failed"
fi

if [ "$NODE_FROM_DEBS" -eq 1 ]; then
  step "Node.js: Debian's nodejs package (in debs/)"
  rm -rf "$OUT/node"
else
mkdir -p "$OUT/node"
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
fi

step "Model wajah / face models"
models_args=(models fetch --dir "$OUT/models")
[ -z "$MODELS_FROM" ] || models_args+=(--from "$MODELS_FROM")
HADIR_LOG_LEVEL=warn node "$SRC_DIR/bin/hadir.mjs" "${models_args[@]}"
HADIR_LOG_LEVEL=warn node "$SRC_DIR/bin/hadir.mjs" models verify --dir "$OUT/models"

# Cross-compiles the native addons that have no linux-arm64 binary in their npm package, against
# the headers of the target's own Node (Debian's libnode-dev: same ABI as its nodejs).
cross_addons() {
  local stage="$1" hdr="$CACHE/node-headers-$SUITE-$ARCH" gyp m dl
  if [ ! -f "$hdr/usr/include/node/common.gypi" ]; then
    dl="$(mktemp -d)"
    (cd "$dl" && apt_target download libnode-dev libuv1-dev > /dev/null) || die "cannot download libnode-dev for $ARCH"
    rm -rf "$hdr.new" && mkdir -p "$hdr.new"
    for d in "$dl"/*.deb; do dpkg-deb -x "$d" "$hdr.new"; done
    rm -rf "$dl" "$hdr" && mv "$hdr.new" "$hdr"
  fi
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || die "node-gyp (bundled with npm) not found at $gyp"
  for m in "${CROSS_ADDONS[@]}"; do
    [ -f "$stage/node_modules/$m/binding.gyp" ] || continue
    printf '    cross-compiling %s for %s\n' "$m" "$ARCH"
    (cd "$stage/node_modules/$m" &&
      # npm_config_nodedir too: an npmrc's nodedir (exported by npm to scripts) otherwise wins.
      npm_config_nodedir="$hdr/usr" CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
        CXXFLAGS="-I$hdr/usr/include" CFLAGS="-I$hdr/usr/include" \
        nice node "$gyp" rebuild --arch=arm64 --nodedir="$hdr/usr" --jobs=2 > "$stage/.gyp-$m.log" 2>&1) ||
      { tail -30 "$stage/.gyp-$m.log" >&2; die "cross-compiling $m failed"; }
    rm -f "$stage/.gyp-$m.log"
    find "$stage/node_modules/$m/build" -name '*.node' -exec file {} + | grep -q 'ARM aarch64' || die "$m: no aarch64 .node built"
    grep -q "\"nodedir\": \"$hdr/usr\"" "$stage/node_modules/$m/build/config.gypi" || die "$m: not built against $hdr/usr"
    rm -rf "$stage/node_modules/$m/build/Release/obj.target" "$stage/node_modules/$m/build/Release/.deps"
  done
}

if [ "$APP" -eq 1 ]; then
  step "Aplikasi / app (git HEAD + npm ci --omit=dev${ARCH:+, $ARCH})"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  chmod 0755 "$stage" # it becomes "./" of the tarball: the kiosk user must be able to enter its release

  (cd "$SRC_DIR" && git archive --format=tar HEAD) | tar -xf - -C "$stage"
  if [ "$CROSS" -eq 1 ]; then
    # node_modules depend only on the lock file and this build: kept in the cache between runs.
    nm_key="$( { cat "$stage/package-lock.json"; echo "${CROSS_ADDONS[*]} $SUITE $ARCH"; sed -n '/^cross_addons()/,/^}/p' "$SELF_DIR/make-mirror.sh"; } | sha256sum | cut -c1-16)"
    nm_cache="$CACHE/node_modules-$ARCH-$nm_key.tar"
    if [ -f "$nm_cache" ]; then
      printf '    node_modules (%s) from the cache\n' "$ARCH"
      tar -xf "$nm_cache" -C "$stage"
    else
      # npm picks the linux-arm64 optional packages (sharp's @img/sharp-linux-arm64); no install
      # scripts run here (they would build or fetch for x86): the addons are cross-built below.
      (cd "$stage" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --os=linux --cpu=arm64 --libc=glibc)
      cross_addons "$stage"
      # Binaries for other platforms that npm packages carry (onnxruntime-node alone ships 265 MB of
      # them): a Pi's SD card and the stick get only linux-arm64.
      find "$stage/node_modules" -type d -name prebuilds -prune -print0 |
        while IFS= read -r -d '' d; do find "$d" -mindepth 1 -maxdepth 1 -type d ! -name linux-arm64 -exec rm -rf {} +; done
      find "$stage/node_modules/onnxruntime-node/bin" -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} + 2> /dev/null || true
      find "$stage/node_modules/onnxruntime-node/bin" -mindepth 3 -maxdepth 3 -type d ! -name arm64 -exec rm -rf {} + 2> /dev/null || true
      mkdir -p "$CACHE"
      tar -cf "$nm_cache.part" -C "$stage" node_modules && mv "$nm_cache.part" "$nm_cache"
    fi
  else
    (cd "$stage" && npm ci --omit=dev --no-audit --no-fund)
  fi
  # The kiosk runs JavaScript compiled ahead of time, not its TypeScript through tsx (faster start,
  # less memory on a Pi: README "Runtime"); esbuild runs here, on the machine making the mirror.
  # The same command drops what Node never loads from node_modules (source maps, type declarations,
  # docs: ~245 MB of 533 MB for arm64), as `hadir release build` does for a bundle.
  HADIR_LOG_LEVEL=warn node "$SRC_DIR/bin/hadir.mjs" release compile "$stage" | sed 's/^/    /'
  mkdir -p "$OUT/app"
  # One layout whoever reads it (provision.sh --offline, fleet release bundles): the app tree with
  # node_modules at the top of the tarball; its commit in app/COMMIT, its platform in app/TARGET.
  tar -czf "$OUT/app/hadir-app.tar.gz.part" -C "$stage" .
  mv "$OUT/app/hadir-app.tar.gz.part" "$OUT/app/hadir-app.tar.gz"
  (cd "$SRC_DIR" && git rev-parse HEAD) > "$OUT/app/COMMIT"
  printf 'linux-%s\n' "${ARCH:-$host_arch}" > "$OUT/app/TARGET"
fi

if [ "$DEBS" -eq 1 ]; then
  step "Paket .deb / .deb packages: ${PKGS[*]} + dependencies"
  [ "$CROSS" -eq 1 ] || rm -rf "$OUT/debs"
  mkdir -p "$OUT/debs"
  if [ "$CROSS" -eq 1 ]; then
    # apt resolves the whole closure from an empty system (one choice per alternative, so the set
    # installs together: the kiosk image may lack more than this machine) into the cache.
    # Straight into debs/ (what is already there is not fetched again).
    mkdir -p "$OUT/debs/partial"
    apt_target -o Dir::Cache::archives="$OUT/debs/" install --download-only --no-install-recommends -y "${PKGS[@]}" > /dev/null ||
      die "apt could not resolve ${PKGS[*]} for $SUITE/$ARCH"
    rm -rf "$OUT/debs/partial" "$OUT/debs/lock"
  else
    # The whole dependency closure (not only what this machine lacks): the kiosk image may lack more.
    mapfile -t all < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${PKGS[@]}" | grep -E '^[a-z0-9]' | sort -u)
    (cd "$OUT/debs" && apt-get download "${all[@]}")
  fi
  # An index, so provision.sh lets apt pick what this kiosk needs (no display: no chromium).
  command -v dpkg-scanpackages > /dev/null || die "dpkg-scanpackages missing: apt-get install dpkg-dev"
  (cd "$OUT/debs" && dpkg-scanpackages --multiversion . /dev/null 2> /dev/null > Packages)
  printf '    %s files\n' "$(find "$OUT/debs" -name '*.deb' | wc -l)"
fi

if [ "$APP" -eq 1 ]; then
  # The scripts themselves at the top of the stick: the technician runs
  # /media/usb/provisioning/provision.sh without first unpacking the whole app (500 MB; minutes on a Pi).
  step "Skrip provisioning / provisioning scripts"
  rm -rf "$OUT/provisioning" && mkdir -p "$OUT/provisioning"
  (cd "$SRC_DIR" && git archive --format=tar HEAD provisioning) | tar -xf - -C "$OUT"
fi

step "SHA256SUMS"
sums="$(mktemp)"
(cd "$OUT" && find . -type f ! -name SHA256SUMS ! -name '*.part' -print0 | sort -z | xargs -0 sha256sum) > "$sums"
mv "$sums" "$OUT/SHA256SUMS"
chmod 0644 "$OUT/SHA256SUMS"
printf '    %s files, %s\n' "$(wc -l < "$OUT/SHA256SUMS")" "$(du -sh "$OUT" | cut -f1)"
printf '\nmake-mirror: SELESAI / DONE: %s\n' "$OUT"
