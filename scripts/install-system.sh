#!/bin/bash
# Install the Debian packages hotline needs, only those missing (fast when all are present).
set -euo pipefail
PKGS=(
  # Asterisk build
  build-essential pkg-config bzip2 patch dpkg-dev libedit-dev libjansson-dev libxml2-dev
  libsqlite3-dev uuid-dev libssl-dev debian-archive-keyring
  # runtime: sounds, prompts, database
  asterisk-core-sounds-en asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm espeak-ng sox
  # recordings: the compressed file a browser plays (opusenc), and its decoding for transcription (opusdec)
  opus-tools
  postgresql python3-venv
  # tests: SIP traffic, browser
  sip-tester chromium
)
# the unprivileged system user Asterisk drops root to (hotline/runas.py creates it too, when missing)
AST_USER=${HOTLINE_ASTERISK_USER-hotline-ast}
if [ -n "$AST_USER" ] && [ "$(id -u)" = 0 ] && ! getent passwd "$AST_USER" > /dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --comment "hotline Asterisk" "$AST_USER"
  echo "[system] created system user $AST_USER (Asterisk runs as it)"
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[system] all ${#PKGS[@]} Debian packages present"
  exit 0
fi
echo "[system] installing: ${missing[*]}"
[ "$(id -u)" = 0 ] || { echo "installing Debian packages needs root (run make as root)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "[system] installed ${#missing[@]} packages"
