#!/usr/bin/env bash
# Installs the Debian packages ticktape needs to build, test and run.
# Idempotent and silent when everything is already there; non-interactive.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libzstd-dev liblzma-dev zlib1g-dev libxxhash-dev
  libprotobuf-c-dev protobuf-c-compiler
  librdkafka-dev libnats-dev nats-server libssl-dev openssl
  libcsv-dev libhdf5-dev libcurl4-openssl-dev libyaml-dev libcmocka-dev
  libxgboost-dev libmicrohttpd-dev
  python3-h5py python3-pandas python3-numpy python3-tables python3-xgboost
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${#missing[@]} missing Debian package(s): ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -qq >&2
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
