#!/bin/sh
# deps.sh - install what Herald needs to build and test, if anything is missing.
# Debian 12 packages only. Needs root (or sudo) only when something must be installed.
set -eu
PKGS="build-essential cmake pkg-config libevent-dev libexpat1-dev libssl-dev liblmdb-dev
      libcurl4-openssl-dev libxml2-dev libcmocka-dev libidn2-dev libunistring-dev
      python3 python3-slixmpp openssl clang libclang-rt-14-dev lmdb-utils"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $missing
