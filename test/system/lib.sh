# shellcheck shell=bash
# Helpers shared by the system test's shell scripts (build-image.sh, build-mirror.sh).

log() { printf '[system %s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { printf 'system test: GAGAL / FAILED: %s\n' "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and mke2fs -d need to keep file owners)"; }

# The Debian mirror this machine's apt uses (deb822 or one-line sources), else deb.debian.org.
debian_mirror() {
  local m
  m="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2> /dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
  printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# The ssh key the harness logs in with (made once per cache; never a real kiosk's key).
ensure_test_key() {
  [ -f "$1/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C hadir-system-test -f "$1/id_ed25519"
}
