#!/usr/bin/env bash
# Installs the Debian packages gpupool needs to build and test, only those that are missing, then
# the dashboard's npm packages (web/package-lock.json, exact versions) with `npm ci` when
# web/node_modules is missing or was installed from another lockfile. Safe to run again; needs
# root (or sudo) only when a Debian package is missing. Without the npm registry the dashboard is
# left out (the C++ build still works, and `/` then says the UI was not built).
set -euo pipefail

PACKAGES=(
  g++ cmake make pkg-config dpkg-dev file
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libsqlite3-dev
  gnuplot-nox libcpp-httplib-dev libmicrohttpd-dev libssl-dev python3 python3-jsonschema
  clang-format clang-tidy-19
  chromium
)
# The dashboard (web/): node and npm. A node that is already there (e.g. NodeSource's, which
# carries its own npm and conflicts with Debian's npm package) is kept; otherwise Debian's.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

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

# The dashboard's packages, as the lockfile pins them; CMake never runs npm.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
stamp="$web/node_modules/.gpupool-lock"
if ! cmp -s "$web/package-lock.json" "$stamp" 2>/dev/null; then
  echo "install-deps: npm ci in web/" >&2
  if (cd "$web" && npm ci --no-audit --no-fund --loglevel=error); then
    cp "$web/package-lock.json" "$stamp"
  else
    echo "install-deps: npm ci failed: the dashboard will not be built (the rest builds)" >&2
  fi
fi
