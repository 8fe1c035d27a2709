#!/usr/bin/env bash
# Builds supra with AddressSanitizer + UndefinedBehaviorSanitizer (clang,
# -fno-sanitize-recover=all: any report aborts its test) into ./build-asan and
# runs the GoogleTest suite and a subset of the interop scripts under it.
# Usage: bash tools/test_sanitized.sh [ctest -R regex]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SUPRA_JOBS:-$(nproc)}"
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# SUPRA_FUZZ as well: fuzz/run.sh builds its harnesses in this same tree, so
# CI compiles the library once for both (the coverage hooks cost the tests
# little).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPRA_SANITIZE=ON -DSUPRA_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs" --target supra supra_tests
# A leak is a finding too (detect_leaks).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan_suppressions.txt"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Every unit test and the interop scripts that drive the supra binary over
# the readers and writers; the slow ones that mostly run outside programs
# (llama.cpp, layout parity in PyTorch) are left to the normal build.
slow='interop\.test_(llamacpp|layout_torch|meta_shards)$'
cd build-asan
if [ $# -gt 0 ]; then
  ctest -j"$jobs" --output-on-failure -R "$1"
else
  ctest -j"$jobs" --output-on-failure -E "$slow"
fi
