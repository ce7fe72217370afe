#!/bin/sh
# Installs what rivulet needs to build, test and run on Debian 12, using
# Debian's packages only. Needs root (or sudo). Safe to run again.
set -eu
PKGS="build-essential pkg-config libjansson-dev libmicrohttpd-dev libsqlite3-dev zlib1g-dev libxxhash-dev libcriterion-dev"
# `sh tools/setup.sh fuzz` adds clang and libFuzzer's runtime, for `make fuzz` only.
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends $missing
