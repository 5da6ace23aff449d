#!/usr/bin/env bash
# The main job on its embedded default: installs what is missing, builds, and runs the openb fill
# experiment (every policy, 10 seeds) on the bundled default trace, printing the comparison table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/apps/gpupool/gpupool sim fill --policy all --seeds 42-51 --out out/fill-default "$@"
