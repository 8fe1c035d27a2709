#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (unit + interop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
cd build
ctest --output-on-failure -j"$(nproc)"
