#!/usr/bin/env bash
# SUPRA against its softmax source, measured in one run, and `supra
# linearize` against `cp`. Writes its own section of bench/RESULTS.md
# (between the linearize_bench markers).
#
#   bash bench/linearize_bench.sh [SIZE_GIB] [THREADS]     # default 2 1
#
# 1. Decode: per-token time and state/cache memory at CONTEXTS (default
#    128,1024,4096,16384) for a 124.7M-parameter bf16 Llama
#    (bench/make_small_llama.py: 12 layers, 12 heads, 4 kv heads) and its
#    linearization (`supra linearize --target hf --decay retnet`: 12 heads is
#    not a power of two, so lightning decay is refused; the decay kind does not
#    change the cost). bench/decode_context_bench.cpp fills each layer's state
#    as after C tokens (random KV rows / random decayed sums: the cost depends
#    on the size, not the values), then times STEPS one-token steps (median).
#    Both again converted to f32 (`supra convert --dtype f32`), decode only.
# 2. Prefill: PREFILL (default 4096) random ids from an empty state, the SUPRA
#    model in its default chunked form.
# 3. Linearize: a SIZE_GIB bf16 HF folder with 7B-Llama shapes
#    (bench/make_llama_folder.py) -> open_lm checkpoint.pt, against `cp` and
#    `cp + sync` of the same safetensors file; peak RSS from GNU time.
# Both models run ROUNDS (default 2) times in round-robin order; medians are
# reported. Wall and CPU time are both given: on the shared 2-core machine a
# process often gets a fraction of a core, CPU time is the steadier measure.
set -euo pipefail

SIZE=${1:-2}
THREADS=${2:-1}
CONTEXTS=${CONTEXTS:-128,1024,4096,16384}
STEPS=${STEPS:-8}
PREFILL=${PREFILL:-4096}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
WORK=${WORK_DIR:-$ROOT/bench/work-linearize}
RESULTS=${RESULTS_FILE:-$ROOT/bench/RESULTS.md}
PY=/usr/bin/python3
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build (Release, benchmarks) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSUPRA_BUILD_BENCH=ON > /dev/null
cmake --build "$BUILD" -j2 --target supra decode_context_bench > /dev/null
SUPRA=$BUILD/supra

rm -rf "$WORK" && mkdir -p "$WORK"
echo '*' > "$WORK/.gitignore"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== models"
$PY "$ROOT/bench/make_small_llama.py" "$WORK/softmax" | tee "$WORK/make.log"
"$SUPRA" linearize "$WORK/softmax" "$WORK/supra" --target hf --decay retnet --no-gap > /dev/null 2>&1
# The same two models in f32: the engine reads f32 weights in place from the mapped file
# instead of widening bf16 on every step, so the weight products shrink and attention shows.
"$SUPRA" convert "$WORK/softmax" "$WORK/softmax-f32" --dtype f32 > /dev/null
"$SUPRA" convert "$WORK/supra" "$WORK/supra-f32" --dtype f32 > /dev/null
"$SUPRA" inspect "$WORK/supra" --json | $PY -c 'import json, sys; print(json.load(sys.stdin)["parameters"])' \
  > "$WORK/supra_params.txt" 2>/dev/null || echo "?" > "$WORK/supra_params.txt"

MEAS=$WORK/measurements.txt
: > "$MEAS"
for round in $(seq 1 "$ROUNDS"); do
  for m in softmax supra softmax-f32 supra-f32; do
    cat "$WORK/$m"/*.safetensors > /dev/null  # page cache
    prefill=$PREFILL
    [[ $m == *-f32 ]] && prefill=0  # prefill is measured on the stored (bf16) models only
    "$BUILD/decode_context_bench" "$WORK/$m" "$CONTEXTS" "$STEPS" "$prefill" "$THREADS" | sed "s/^/$m /" >> "$MEAS"
    echo "  round $round $m done"
  done
done

echo "== linearize a ${SIZE} GiB bf16 source"
$PY "$ROOT/bench/make_llama_folder.py" "$WORK/big" "$SIZE" > /dev/null
SRC=$WORK/big/model.safetensors
SRC_BYTES=$(stat -c %s "$SRC")
LIN=$WORK/lin_measurements.txt
: > "$LIN"
timed() {  # name command...: one "name seconds rss_kib" line
  local name=$1; shift
  rm -rf "$WORK/out" "$WORK/out.cp"
  cat "$SRC" > /dev/null
  $TIME -f "%e %M" -o "$WORK/time.txt" "$@" > /dev/null 2>&1
  echo "$name $(cat "$WORK/time.txt")" >> "$LIN"
}
for round in $(seq 1 "$ROUNDS"); do
  timed cp cp "$SRC" "$WORK/out.cp"
  timed cp_sync sh -c "cp '$SRC' '$WORK/out.cp' && sync '$WORK/out.cp'"
  timed linearize "$SUPRA" linearize "$WORK/big" "$WORK/out" --no-gap  # threads: one per core, as convert_bench
  OUT_BYTES=$(stat -c %s "$WORK/out/checkpoint.pt")
  echo "  round $round done"
done
LARGEST=$("$SUPRA" inspect --json "$SRC" | $PY -c 'import json, sys; print(max(t["bytes"] for t in json.load(sys.stdin)["tensors"]))')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

SECTION=$WORK/section.md
$PY "$ROOT/bench/linearize_bench_section.py" "$MEAS" "$LIN" "$SECTION" \
  "size=$SIZE" "threads=$THREADS" "contexts=$CONTEXTS" "steps=$STEPS" "prefill=$PREFILL" "rounds=$ROUNDS" \
  "commit=$(git -C "$ROOT" rev-parse --short HEAD)" "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "nproc=$(nproc)" "load0=$LOAD_BEFORE" "load1=$LOAD_AFTER" "model=$(head -n1 "$WORK/make.log" | sed "s/^[^:]*: //")" \
  "supra_params=$(cat "$WORK/supra_params.txt")" "src_bytes=$SRC_BYTES" "out_bytes=$OUT_BYTES" "largest=$LARGEST"
$PY "$ROOT/bench/write_results_section.py" "$RESULTS" linearize_bench "$SECTION"
cat "$SECTION"
