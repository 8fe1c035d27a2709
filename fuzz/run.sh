#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang 14, ASan + UBSan, ./build-asan) and
# runs each for SECONDS on a seed corpus made from tests/fixtures.
#   bash fuzz/run.sh SECONDS [harness ...]
# Per harness it prints executions, coverage (libFuzzer's cov:) and the
# inputs it found (build-asan/findings/<harness>/). Exits 1 if any harness
# found something. The corpora grow in build-asan/corpus/ across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:?usage: fuzz/run.sh SECONDS [harness ...]}"
shift
root="$PWD"
# The tree of tools/test_sanitized.sh, configured the same way: after the
# sanitized suite only the harnesses are left to build.
build="$root/build-asan"
jobs="${SUPRA_JOBS:-$(nproc)}"
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPRA_SANITIZE=ON -DSUPRA_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" >/dev/null
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do
    h="$(basename "$f" .cpp)"
    [ "$h" = fuzz_support ] || harnesses+=("$h")
  done
fi
cmake --build "$build" -j"$jobs" --target supra "${harnesses[@]}"

bash fuzz/make_seeds.sh "$build/supra" "$build/seeds"

export LSAN_OPTIONS="suppressions=$PWD/tools/lsan_suppressions.txt"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
printf '%-24s %12s %8s %8s %s\n' harness executions cov ft findings
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  findings="$build/findings/$h"
  mkdir -p "$corpus" "$findings"
  name="${h#fuzz_}"
  cp -n "$build/seeds/$name"/* "$corpus"/ 2>/dev/null || true
  log="$build/logs/$h.log"
  mkdir -p "$(dirname "$log")"
  # A finding: a crash or sanitizer report, an escaped exception, more than
  # 2 s for one input, more than 2 GB.
  set +e
  "$build/fuzz/$h" "$corpus" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)"
  cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)"
  ft="$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)"
  found="$(find "$findings" -type f | wc -l)"
  printf '%-24s %12s %8s %8s %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    echo "  finding(s) in $findings, log $log:" >&2
    grep -m3 -E 'ERROR|FINDING|SUMMARY|deadly|timeout' "$log" | sed 's/^/    /' >&2 || true
  fi
done
exit "$status"
