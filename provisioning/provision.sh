#!/usr/bin/env bash
# Hadir kiosk provisioning: turns a fresh Raspberry Pi OS Lite 64-bit (Debian bookworm) into a
# Hadir kiosk. Run as root on the Pi:
#
#   sudo ./provisioning/provision.sh --hub http://10.20.0.5:8080 --token TOKEN [--site SITE] [--offline /media/usb/hadir-mirror]
#
# or into a mounted image root (SD-card images, tests) with --root DIR. Safe to re-run: every step
# checks what is already there. Docs: docs/technician.md.
set -euo pipefail
umask 022

SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="$(cd "$SELF_DIR/.." && pwd)"
readonly SELF_DIR SRC_DIR
readonly NODE_VERSION_DEFAULT="20.19.5"
readonly PKGS=(chrony cage chromium fswebcam espeak-ng ca-certificates xz-utils)

HUB_URL=""
TOKEN=""
SITE=""
OFFLINE=""
ROOT=""
APP_DIR=""
NTP_SERVERS="${HADIR_NTP_SERVERS:-0.id.pool.ntp.org 1.id.pool.ntp.org}"
WATCHDOG_SEC=15
MAXCHANGE=60
FORCE_ENROL=0
SELFTEST=1
DISPLAY_UNIT=1
RELEASE_KEY=""

usage() {
  cat <<'EOF'
Pemakaian / usage: provision.sh --hub URL --token TOKEN [options]

  --hub URL          alamat hub / hub URL, e.g. http://10.20.0.5:8080
  --token TOKEN      token pendaftaran sekali pakai / one-time enrolment token (hadir device add --site S)
  --site S           kode lokasi yang diharapkan / expected site code: refuse a token of another site
  --offline DIR      cermin offline / offline mirror made by make-mirror.sh (USB stick): no internet needed
  --root DIR         provision a mounted image root instead of / (no apt, no systemctl start, no reboot)
  --app-dir DIR      install the app from this unpacked tree (with node_modules) instead of the mirror
  --ntp "A B"        NTP servers of the regency (default: $HADIR_NTP_SERVERS or id.pool.ntp.org)
  --watchdog-sec N   hardware watchdog timeout for systemd (default 15, the Pi's maximum; a much
                     slower board or an emulated one needs more: systemd does not ping it while reloading)
  --maxchange S      largest clock correction (s) accepted after boot (default 60)
  --force-enrol      enrol again although /etc/hadir/kiosk.json exists (needs a new token)
  --no-display       do not enable the Chromium kiosk display
  --release-key FILE release-key.pub (hadir release keygen): installs it and enables hadir-updater
                     (fleet updates); default: the mirror's release-key.pub when there is one
  --skip-selftest    do not run the self-test at the end
EOF
}

die() { printf 'provision: GAGAL / FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --hub) HUB_URL="${2:?--hub needs a URL}"; shift 2 ;;
    --token) TOKEN="${2:?--token needs a value}"; shift 2 ;;
    --site) SITE="${2:?--site needs a code}"; shift 2 ;;
    --offline) OFFLINE="${2:?--offline needs a directory}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --app-dir) APP_DIR="${2:?--app-dir needs a directory}"; shift 2 ;;
    --ntp) NTP_SERVERS="${2:?--ntp needs server names}"; shift 2 ;;
    --watchdog-sec) WATCHDOG_SEC="${2:?--watchdog-sec needs seconds}"; shift 2 ;;
    --maxchange) MAXCHANGE="${2:?--maxchange needs seconds}"; shift 2 ;;
    --force-enrol) FORCE_ENROL=1; shift ;;
    --no-display) DISPLAY_UNIT=0; shift ;;
    --release-key) RELEASE_KEY="${2:?--release-key needs a file}"; shift 2 ;;
    --skip-selftest) SELFTEST=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

# ---------------------------------------------------------------- checks before touching anything
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT="$(cd "$ROOT" && pwd)"
  [ "$ROOT" != "/" ] || ROOT=""
fi
R="$ROOT"
[ -z "$R" ] && [ "$(id -u)" -ne 0 ] && die "run as root: sudo $0 …"
if [ -n "$OFFLINE" ]; then
  [ -d "$OFFLINE" ] || die "--offline $OFFLINE is not a directory"
  OFFLINE="$(cd "$OFFLINE" && pwd)"
fi
if [ -n "$APP_DIR" ]; then
  if [ ! -f "$APP_DIR/bin/hadir.mjs" ] || [ ! -d "$APP_DIR/node_modules" ]; then die "--app-dir $APP_DIR has no bin/hadir.mjs or node_modules"; fi
  APP_DIR="$(cd "$APP_DIR" && pwd)"
fi
[[ "$MAXCHANGE" =~ ^[0-9]+$ ]] || die "--maxchange must be whole seconds"
{ [[ "$WATCHDOG_SEC" =~ ^[0-9]+$ ]] && [ "$WATCHDOG_SEC" -ge 5 ]; } || die "--watchdog-sec must be whole seconds, at least 5 (e.g. 15)"
case "$HUB_URL" in ""|http://*|https://*) ;; *) die "--hub must start with http:// or https://" ;; esac
[[ -z "$SITE" || "$SITE" =~ ^[A-Za-z0-9._-]+$ ]] || die "--site has characters other than A-Z a-z 0-9 . _ -"
for s in $NTP_SERVERS; do [[ "$s" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--ntp: $s is not a host name or address"; done

if [ -z "$RELEASE_KEY" ] && [ -n "$OFFLINE" ] && [ -f "$OFFLINE/release-key.pub" ]; then RELEASE_KEY="$OFFLINE/release-key.pub"; fi
if [ -n "$RELEASE_KEY" ]; then grep -q 'BEGIN PUBLIC KEY' "$RELEASE_KEY" 2> /dev/null || die "--release-key $RELEASE_KEY is not a PEM public key (release-key.pub from hadir release keygen)"; fi
readonly CONF="$R/etc/hadir/kiosk.json"
NEED_ENROL=1
if [ -f "$CONF" ] && [ "$FORCE_ENROL" -eq 0 ]; then NEED_ENROL=0; fi
if [ "$NEED_ENROL" -eq 1 ] && { [ -z "$HUB_URL" ] || [ -z "$TOKEN" ]; }; then
  die "--hub and --token are required (get a token with: hadir device add --site SITE)"
fi

STATE_DIR="$R/var/lib/hadir-provision"
mkdir -p "$STATE_DIR"
SKIPPED="$STATE_DIR/skipped-in-root-mode.txt"
[ -n "$R" ] && : > "$SKIPPED"
skip_host() { # a step that acts on the running system, not on files: recorded in --root mode
  info "dilewati (--root) / skipped in --root mode: $*"
  printf '%s\n' "$*" >> "$SKIPPED"
}

if [ -n "$OFFLINE" ] && [ -f "$OFFLINE/SHA256SUMS" ]; then
  step "Memeriksa cermin offline / verifying the offline mirror"
  (cd "$OFFLINE" && sha256sum --quiet -c SHA256SUMS) || die "offline mirror $OFFLINE is damaged (sha256 mismatch): copy it again"
  info "ok: $(wc -l < "$OFFLINE/SHA256SUMS") files"
fi

if [ -z "$R" ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${VERSION_CODENAME:-}" in bookworm|trixie) ;; *) info "PERINGATAN / WARNING: built for Debian bookworm/trixie, this is ${PRETTY_NAME:-unknown}" ;; esac
  [ "$(uname -m)" = "aarch64" ] || info "PERINGATAN / WARNING: built for 64-bit Raspberry Pi OS (aarch64), this is $(uname -m)"
fi

# ---------------------------------------------------------------- packages
step "Paket sistem / system packages: ${PKGS[*]}"
if [ -n "$R" ]; then
  skip_host "apt-get install ${PKGS[*]} (install them in the image with a chroot/qemu or on first boot)"
elif [ -n "$OFFLINE" ]; then
  compgen -G "$OFFLINE/debs/*.deb" > /dev/null || die "offline mirror has no debs/*.deb (make-mirror.sh without --no-debs)"
  # A power cut during an earlier run leaves dpkg half-done, and apt refuses until it is finished.
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  if [ -f "$OFFLINE/debs/Packages" ]; then
    # The stick as an apt source of its own (the system's sources are neither used nor changed):
    # apt installs only what this kiosk needs, e.g. no chromium/cage with --no-display.
    want_pkgs=()
    for p in "${PKGS[@]}"; do
      if [ "$DISPLAY_UNIT" -eq 0 ] && { [ "$p" = chromium ] || [ "$p" = cage ]; }; then continue; fi
      want_pkgs+=("$p")
    done
    compgen -G "$OFFLINE/debs/nodejs_*.deb" > /dev/null && want_pkgs+=(nodejs)
    usb_list="$(mktemp)"
    printf 'deb [trusted=yes] file:%s ./\n' "$OFFLINE/debs" > "$usb_list"
    usb_apt=(-o Dir::Etc::SourceList="$usb_list" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0)
    DEBIAN_FRONTEND=noninteractive apt-get "${usb_apt[@]}" update -q || die "apt cannot read the mirror's debs/Packages"
    DEBIAN_FRONTEND=noninteractive apt-get "${usb_apt[@]}" install -y --no-install-recommends "${want_pkgs[@]}"
    rm -f "$usb_list"
  else
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$OFFLINE"/debs/*.deb
  fi
else
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}"
fi
# Raspberry Pi OS ships Chromium as chromium-browser on older images; the display unit runs /usr/bin/chromium.
if [ -z "$R" ] && [ ! -e /usr/bin/chromium ] && [ -x /usr/bin/chromium-browser ]; then
  ln -s chromium-browser /usr/bin/chromium
fi

# ---------------------------------------------------------------- Node.js
step "Node.js -> /opt/hadir/node"
NODE_DIR="$R/opt/hadir/node"
mkdir -p "$R/opt/hadir"
node_tarball=""
if [ -n "$OFFLINE" ]; then
  node_tarball="$(compgen -G "$OFFLINE/node/node-v*-linux-*.tar.[gx]z" | head -n1 || true)"
  if [ -z "$node_tarball" ] && compgen -G "$OFFLINE/debs/nodejs_*.deb" > /dev/null; then
    node_tarball="debian-nodejs" # make-mirror.sh --arch arm64 / --node-from-debs: Node is Debian's package
  fi
  [ -n "$node_tarball" ] || die "offline mirror has neither node/node-v*-linux-*.tar.xz nor debs/nodejs_*.deb"
else
  arch="arm64"; [ "$(uname -m)" = "x86_64" ] && [ -z "$R" ] && arch="x64"
  v="$NODE_VERSION_DEFAULT"
  node_tarball="$STATE_DIR/node-v$v-linux-$arch.tar.xz"
  if [ ! -f "$node_tarball" ]; then
    curl -fsSL -o "$node_tarball.part" "https://nodejs.org/dist/v$v/node-v$v-linux-$arch.tar.xz"
    curl -fsSL -o "$STATE_DIR/SHASUMS256.txt" "https://nodejs.org/dist/v$v/SHASUMS256.txt"
    want="$(awk -v f="node-v$v-linux-$arch.tar.xz" '$2==f{print $1}' "$STATE_DIR/SHASUMS256.txt")"
    got="$(sha256sum "$node_tarball.part" | cut -d' ' -f1)"
    if [ -z "$want" ] || [ "$want" != "$got" ]; then die "Node.js download does not match its published sha256"; fi
    mv "$node_tarball.part" "$node_tarball"
  fi
fi
node_name="$(basename "$node_tarball")"
if [ "$node_tarball" = "debian-nodejs" ]; then
  [ -n "$R" ] || [ -x /usr/bin/node ] || die "Debian's nodejs package did not install /usr/bin/node"
  # The units run /opt/hadir/node/bin/node whatever Node is: here a link to Debian's.
  if [ "$(readlink "$NODE_DIR/bin/node" 2> /dev/null)" != /usr/bin/node ]; then
    rm -rf "$NODE_DIR.new" && mkdir -p "$NODE_DIR.new/bin"
    ln -s /usr/bin/node "$NODE_DIR.new/bin/node"
    printf '%s\n' "$node_name" > "$NODE_DIR.new/.hadir-source"
    rm -rf "$NODE_DIR" && mv "$NODE_DIR.new" "$NODE_DIR"
  fi
  info "Node.js dari paket Debian / from Debian's package: $([ -n "$R" ] || /usr/bin/node --version)"
elif [ -x "$NODE_DIR/bin/node" ] && [ "$(cat "$NODE_DIR/.hadir-source" 2>/dev/null)" = "$node_name" ]; then
  info "sudah terpasang / already installed: $node_name"
else
  rm -rf "$NODE_DIR.new"
  mkdir -p "$NODE_DIR.new"
  tar -xf "$node_tarball" -C "$NODE_DIR.new" --strip-components=1
  [ -x "$NODE_DIR.new/bin/node" ] || die "$node_name has no bin/node"
  printf '%s\n' "$node_name" > "$NODE_DIR.new/.hadir-source"
  sync -f "$NODE_DIR.new" # as for the release below: data on disk before the rename marks it installed
  rm -rf "$NODE_DIR"
  mv "$NODE_DIR.new" "$NODE_DIR"
  info "dipasang / installed: $node_name"
fi

# ---------------------------------------------------------------- users
step "Pengguna sistem / system users: hadir, hadir-screen"
pfx=()
[ -n "$R" ] && pfx=(--prefix "$R")
if [ ! -f "$R/etc/passwd" ] || [ ! -f "$R/etc/group" ]; then die "$R/etc/passwd or /etc/group missing: is ${R:-/} an OS root?"; fi
has_user() { awk -F: -v u="$1" '$1==u{f=1} END{exit !f}' "$R/etc/passwd"; }
has_group() { awk -F: -v g="$1" '$1==g{f=1} END{exit !f}' "$R/etc/group"; }
ensure_user() { # name home groups...
  local name="$1" home="$2"; shift 2
  if ! has_user "$name"; then
    useradd "${pfx[@]}" --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin --comment "Hadir" "$name"
    info "dibuat / created: $name"
  fi
  local g want=()
  for g in "$@"; do
    if has_group "$g"; then want+=("$g"); else info "grup $g tidak ada / group $g does not exist here: skipped"; fi
  done
  [ ${#want[@]} -eq 0 ] || usermod "${pfx[@]}" -a -G "$(IFS=,; echo "${want[*]}")" "$name"
}
# The units name these groups in SupplementaryGroups=, and systemd refuses to start a unit whose
# group does not exist (216/GROUP): Raspberry Pi OS has gpio, plain Debian arm64 does not.
for g in video dialout gpio render input; do
  has_group "$g" || { groupadd "${pfx[@]}" --system "$g"; info "grup dibuat / group created: $g"; }
done
ensure_user hadir /var/lib/hadir video dialout gpio
ensure_user hadir-screen /var/lib/hadir-screen video render input
uid_of() { awk -F: -v u="$1" '$1==u{print $3}' "$R/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1==g{print $3}' "$R/etc/group"; }
HADIR_UID="$(uid_of hadir)"; HADIR_GID="$(gid_of hadir)"

# ---------------------------------------------------------------- the app
step "Aplikasi Hadir / the Hadir app -> /opt/hadir/current"
REL_BASE="$R/opt/hadir/releases"
mkdir -p "$REL_BASE"
if [ -n "$APP_DIR" ]; then
  app_src="dir:$APP_DIR"
  # Content fingerprint of the tree (paths, sizes, times; node_modules via package-lock.json): the same tree is the same release.
  app_id="$(cd "$APP_DIR" && find . \( -name node_modules -o -name .git -o -name tmp -o -name data -o -name coverage \) -prune -o -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c1-12)"
elif [ -n "$OFFLINE" ]; then
  [ -f "$OFFLINE/app/hadir-app.tar.gz" ] || die "offline mirror has no app/hadir-app.tar.gz (use --app-dir, or make-mirror.sh without --no-app)"
  app_src="tar:$OFFLINE/app/hadir-app.tar.gz"
  app_id="$(sha256sum "$OFFLINE/app/hadir-app.tar.gz" | cut -c1-12)"
else
  app_src="git:$SRC_DIR"
  app_id="$(cd "$SRC_DIR" && { git rev-parse --short=12 HEAD 2>/dev/null || date +%Y%m%d%H%M%S; })"
fi
REL="$REL_BASE/$app_id"
if [ -f "$REL/.hadir-complete" ]; then
  info "sudah terpasang / already installed: release $app_id"
else
  rm -rf "$REL.new"
  case "$app_src" in
    dir:*)
      # Hard links when on the same file system (fast, no extra space); a plain copy otherwise.
      # Not the checkout's .git, data or tmp (a test may provision a root that lives there).
      mkdir -p "$REL.new"
      find "$APP_DIR" -mindepth 1 -maxdepth 1 ! -name .git ! -name tmp ! -name data ! -name coverage -print0 |
        while IFS= read -r -d '' entry; do
          cp -al "$entry" "$REL.new/" 2> /dev/null || cp -a "$entry" "$REL.new/"
        done ;;
    tar:*)
      mkdir -p "$REL.new"
      tar -xzf "${app_src#tar:}" -C "$REL.new"
      # tar as root keeps the archive's modes, "./" included (0700 when packed from a mktemp -d):
      # the kiosk runs as hadir and must read, and chdir into, its release.
      chmod -R u+rwX,go+rX,go-w "$REL.new" ;;
    git:*)
      mkdir -p "$REL.new"
      (cd "$SRC_DIR" && git archive --format=tar HEAD) | tar -xf - -C "$REL.new"
      (cd "$REL.new" && PATH="$NODE_DIR/bin:$PATH" npm ci --omit=dev --no-audit --no-fund) ;;
  esac
  [ -f "$REL.new/bin/hadir.mjs" ] || die "the app source has no bin/hadir.mjs"
  # The files' data on disk before the marker and the rename: after a power cut the journal can
  # hold a renamed, "complete" release whose files were never written (zeros), and a second run
  # would trust it.
  sync -f "$REL.new"
  touch "$REL.new/.hadir-complete"
  mv "$REL.new" "$REL"
  info "dipasang / installed: release $app_id"
fi
ln -sfn "releases/$app_id" "$R/opt/hadir/current.new"
mv -T "$R/opt/hadir/current.new" "$R/opt/hadir/current"

# The CLI used for models, enrolment and the self-test: the installed one on a Pi; in --root mode
# the image may be for another CPU, so the checkout this script runs from (with this host's node).
if [ -n "$R" ]; then
  HOST_NODE="$(command -v node || true)"
  [ -n "$HOST_NODE" ] || die "--root needs node on this host to run the enrolment"
  [ -d "$SRC_DIR/node_modules" ] || die "--root runs the CLI from $SRC_DIR: run npm ci there first"
  CLI=("$HOST_NODE" "$SRC_DIR/bin/hadir.mjs")
else
  CLI=("$NODE_DIR/bin/node" "$R/opt/hadir/current/bin/hadir.mjs")
fi
hadir() { HADIR_LOG_LEVEL=warn "${CLI[@]}" "$@"; }

# ---------------------------------------------------------------- models
step "Model wajah / face models (fetch + sha256 verify)"
MODEL_DIR="$REL/models/onnx"
if [ -n "$OFFLINE" ]; then
  [ -d "$OFFLINE/models" ] || die "offline mirror has no models/"
  hadir models fetch --from "$OFFLINE/models" --dir "$MODEL_DIR"
else
  hadir models fetch --dir "$MODEL_DIR"
fi
hadir models verify --dir "$MODEL_DIR"

# ---------------------------------------------------------------- chrony
step "Jam tepercaya / trusted time: chrony"
mkdir -p "$R/etc/chrony"
if [ -f "$R/etc/chrony/chrony.conf" ] && [ ! -f "$R/etc/chrony/chrony.conf.orig-hadir" ] && ! grep -q 'Hadir provisioning' "$R/etc/chrony/chrony.conf"; then
  cp -p "$R/etc/chrony/chrony.conf" "$R/etc/chrony/chrony.conf.orig-hadir"
fi
servers=""
for s in $NTP_SERVERS; do servers+="server $s iburst prefer"$'\n'; done
hub_source="# (no hub known)"
ntp_hub="$HUB_URL"
if [ -z "$ntp_hub" ] && [ -f "$CONF" ]; then # re-run without --hub: the enrolled hub
  ntp_hub="$("${CLI[0]}" -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).hubUrl)' "$CONF" 2> /dev/null || true)"
fi
if [ -n "$ntp_hub" ]; then
  hub_host="$(printf '%s' "$ntp_hub" | sed -E 's#^[a-z]+://##; s#[/?].*$##; s#:[0-9]+$##; s#^\[(.*)\]$#\1#')"
  hub_source="server $hub_host iburst"
fi
chrony_tmp="$(mktemp)"
awk -v servers="${servers%$'\n'}" -v hub="$hub_source" -v mc="$MAXCHANGE" \
  '{ gsub(/@MAXCHANGE@/, mc); if ($0 == "@SERVERS@") print servers; else if ($0 == "@HUB_SOURCE@") print hub; else print }' \
  "$SELF_DIR/chrony.conf.in" > "$chrony_tmp"
if cmp -s "$chrony_tmp" "$R/etc/chrony/chrony.conf"; then
  info "tidak berubah / unchanged"
  rm -f "$chrony_tmp"
else
  install -m 0644 "$chrony_tmp" "$R/etc/chrony/chrony.conf"
  rm -f "$chrony_tmp"
  info "ditulis / written: servers $NTP_SERVERS, hub fallback, makestep at boot only, maxchange $MAXCHANGE s"
  if [ -z "$R" ]; then systemctl restart chrony || info "PERINGATAN / WARNING: chrony restart failed"; else skip_host "systemctl restart chrony"; fi
fi

# ---------------------------------------------------------------- watchdog, UART, journal
step "Watchdog perangkat keras / hardware watchdog, UART, journald"
mkdir -p "$R/etc/systemd/system.conf.d" "$R/etc/systemd/journald.conf.d"
printf '%s\n' '# Hadir: the Pi'"'"'s hardware watchdog reboots a hung system (provisioning/provision.sh).' '[Manager]' "RuntimeWatchdogSec=$WATCHDOG_SEC" 'RebootWatchdogSec=2min' > "$R/etc/systemd/system.conf.d/hadir-watchdog.conf"
printf '%s\n' '# Hadir: bounded logs on the SD card.' '[Journal]' 'SystemMaxUse=64M' 'MaxRetentionSec=14day' > "$R/etc/systemd/journald.conf.d/hadir.conf"
BOOTCFG=""
for c in "$R/boot/firmware/config.txt" "$R/boot/config.txt"; do [ -f "$c" ] && { BOOTCFG="$c"; break; }; done
if [ -n "$BOOTCFG" ]; then
  for line in "dtparam=watchdog=on" "enable_uart=1"; do
    grep -qxF "$line" "$BOOTCFG" || { printf '%s\n' "$line" >> "$BOOTCFG"; info "$BOOTCFG: + $line (needs a reboot)"; }
  done
else
  info "PERINGATAN / WARNING: no /boot/firmware/config.txt: not a Raspberry Pi image? watchdog/UART not enabled"
fi

# ---------------------------------------------------------------- data dir and config dir
install -d -m 0750 -o "$HADIR_UID" -g "$HADIR_GID" "$R/var/lib/hadir"
install -d -m 0750 -o 0 -g "$HADIR_GID" "$R/etc/hadir"

# ---------------------------------------------------------------- enrolment
step "Pendaftaran ke hub / enrolment with the hub"
if [ "$NEED_ENROL" -eq 0 ]; then
  info "sudah terdaftar / already enrolled: $CONF kept (use --force-enrol with a new token to enrol again)"
  [ -z "$TOKEN" ] || info "token tidak dipakai / the token was not used"
else
  new_conf="$R/etc/hadir/.kiosk.json.new"
  rm -f "$new_conf"
  # The key pair is made right here by `hadir kiosk enroll`; only the public key goes to the hub.
  if ! hadir kiosk enroll --hub "$HUB_URL" --token "$TOKEN" --out "$new_conf" --data /var/lib/hadir; then
    rm -f "$new_conf"
    die "the hub refused the enrolment (see the line above): get a new token with 'hadir device add --site ${SITE:-SITE}'"
  fi
  got_site="$("${CLI[0]}" -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).siteCode)' "$new_conf")"
  if [ -n "$SITE" ] && [ "$got_site" != "$SITE" ]; then
    rm -f "$new_conf"
    die "the token is for site $got_site, not $SITE (the token is now used): get a token for $SITE"
  fi
  chown "$HADIR_UID:$HADIR_GID" "$new_conf"
  chmod 0600 "$new_conf"
  mv -f "$new_conf" "$CONF"
  info "terdaftar / enrolled at site $got_site: $CONF (0600, owner hadir)"
fi

# ---------------------------------------------------------------- systemd units
step "Layanan systemd / systemd units"
units=(hadir-kiosk.service)
[ "$DISPLAY_UNIT" -eq 1 ] && units+=(hadir-display.service)
# Fleet updates: the release public key (never the private one) and the updater unit.
if [ -n "$RELEASE_KEY" ]; then
  install -D -m 0644 "$RELEASE_KEY" "$R/etc/hadir/release-key.pub"
  info "kunci rilis / release key: /etc/hadir/release-key.pub"
fi
[ -f "$R/etc/hadir/release-key.pub" ] && units+=(hadir-updater.service)
# The units of the release just installed (they match its code), else this checkout's.
unit_dir="$REL/systemd"
[ -d "$unit_dir" ] || unit_dir="$SRC_DIR/systemd"
for u in "${units[@]}"; do
  [ -f "$unit_dir/$u" ] || die "$unit_dir/$u missing: the app is incomplete"
  if ! cmp -s "$unit_dir/$u" "$R/etc/systemd/system/$u"; then
    install -D -m 0644 "$unit_dir/$u" "$R/etc/systemd/system/$u"
    info "dipasang / installed: $u"
  fi
done
if command -v systemctl > /dev/null; then
  if [ -n "$R" ]; then
    systemctl --root="$R" enable "${units[@]}" 2>&1 | sed 's/^/    /'
  else
    systemctl daemon-reload
    systemctl enable "${units[@]}"
  fi
else
  for u in "${units[@]}"; do
    mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
    ln -sfn "/etc/systemd/system/$u" "$R/etc/systemd/system/multi-user.target.wants/$u"
  done
fi
if [ "$DISPLAY_UNIT" -eq 0 ] && [ -z "$R" ]; then systemctl disable --now hadir-display.service 2> /dev/null || true; fi
# Started after the self-test: the self-test connects to MQTT as this device, the running kiosk would hold that session.
if [ -z "$R" ]; then systemctl stop hadir-kiosk.service 2> /dev/null || true; fi

# ---------------------------------------------------------------- self-test
# Everything written so far reaches the disk before anyone is told it is done (the technician
# may pull the plug at once).
sync
printf 'provisioned=%s\nrelease=%s\nroot=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$app_id" "${R:-/}" > "$STATE_DIR/last-run"
selftest_rc=0
if [ "$SELFTEST" -eq 1 ]; then
  step "Uji mandiri / self-test"
  st=(kiosk selftest --config "$CONF")
  [ -n "$R" ] && st+=(--root "$R" --skip-hardware)
  hadir "${st[@]}" || selftest_rc=$?
fi

step "Menjalankan layanan / starting the services"
if [ -z "$R" ]; then
  systemctl restart "${units[@]}"
  info "$(systemctl is-active hadir-kiosk.service): hadir-kiosk.service"
else
  skip_host "systemctl start ${units[*]} (they start at the first boot of the image)"
fi
if [ "$selftest_rc" -ne 0 ]; then
  printf '\nprovision: selesai dengan kegagalan uji mandiri / finished, but the self-test has failures (see docs/technician.md, troubleshooting)\n' >&2
  exit 2
fi
printf '\nprovision: SELESAI / DONE%s\n' "$([ -n "$R" ] && printf ' (image root %s; host steps skipped: see %s)' "$R" "${SKIPPED#"$R"}")"
