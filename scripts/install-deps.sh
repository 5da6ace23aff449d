#!/usr/bin/env bash
# Installs the Debian packages gpupool needs to build and test, only those that are missing.
# Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  g++ cmake make pkg-config dpkg-dev file
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libsqlite3-dev
  gnuplot-nox libcpp-httplib-dev libmicrohttpd-dev libssl-dev python3 python3-jsonschema
  clang-format clang-tidy-19
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
