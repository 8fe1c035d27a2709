#!/usr/bin/env bash
# Configures and builds supra (Release) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache, when a developer machine has it, makes rebuilds across worktrees cheap.
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
