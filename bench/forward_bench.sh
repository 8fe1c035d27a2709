#!/usr/bin/env bash
# Prompt evaluation and greedy decode tokens/s of supra's forward engine
# against llama.cpp (node-llama-cpp's prebuilt CPU binaries) on the same
# GGUF files, the same token ids and the same thread count, measured in one
# run. Writes its own section of bench/RESULTS.md (between the forward_bench
# markers).
#
#   bash bench/forward_bench.sh [THREADS] [PROMPT_TOKENS]   # default 1 128
#
# On a loaded machine use 1 thread: ggml's worker threads spin while they
# wait, so llama.cpp with 2 threads on 2 busy cores collapses (seen: 10x slower).
#
# The model is a 125M-parameter Llama (bench/make_small_llama.py, bf16),
# converted by supra to GGUF f32, bf16 and Q8_0. supra runs
# `supra logits --positions last` and `supra generate`; llama.cpp runs
# bench/llama_speed.mjs (f32 KV cache, no flash attention, as in the interop
# tests). Times exclude loading on both sides: supra's are its own printed
# tokens/s of the forward passes, llama.cpp's are timed around evaluate().
# Each command runs ROUNDS times in round-robin order (a noisy neighbour on
# the shared machine hits both alike); medians are reported.
set -euo pipefail

THREADS=${1:-1}
PROMPT=${2:-128}
DECODE=${DECODE:-32}
ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fwbench}
WORK=${WORK_DIR:-$ROOT/bench/work-forward}
RESULTS=${RESULTS_FILE:-$ROOT/bench/RESULTS.md}
PY=/usr/bin/python3
LLAMA=$ROOT/tests/interop/llama/node_modules/node-llama-cpp
[[ -d $LLAMA ]] || { echo "needs node-llama-cpp: run tools/install_deps.sh" >&2; exit 1; }

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD" -j"$(nproc)" --target supra > /dev/null
SUPRA=$BUILD/supra

rm -rf "$WORK" && mkdir -p "$WORK"
echo '*' > "$WORK/.gitignore"
echo "== model"
$PY "$ROOT/bench/make_small_llama.py" "$WORK/hf" | tee "$WORK/make.log"
"$SUPRA" convert "$WORK/hf" "$WORK/f32.gguf" --dtype f32 > /dev/null
"$SUPRA" convert "$WORK/hf" "$WORK/bf16.gguf" > /dev/null
"$SUPRA" convert "$WORK/hf" "$WORK/q8_0.gguf" --dtype f32 --quantize q8_0 > /dev/null
$PY -c 'import json, random, sys; random.seed(0); print(json.dumps([random.randrange(32000) for _ in range(int(sys.argv[1]))]))' \
  "$PROMPT" > "$WORK/tokens.json"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# One line per measurement: variant engine kind tokens_per_s [ids]
MEAS=$WORK/measurements.txt
: > "$MEAS"
for round in $(seq 1 "$ROUNDS"); do
  for v in f32 bf16 q8_0; do
    g=$WORK/$v.gguf
    cat "$g" > /dev/null  # page cache
    out=$("$SUPRA" logits "$g" --tokens "$WORK/tokens.json" --positions last --threads "$THREADS" --out "$WORK/l.npy")
    echo "$v supra prompt $(sed -E 's/.*: ([0-9.]+) tokens\/s\)$/\1/' <<< "$out")" >> "$MEAS"
    "$SUPRA" generate "$g" --tokens "$WORK/tokens.json" --max-new $((DECODE + 1)) --threads "$THREADS" --json |
      $PY -c 'import json, sys; j = json.load(sys.stdin); print(sys.argv[1], "supra decode", j["decode_tokens_per_s"], *j["new"])' "$v" >> "$MEAS"
    (cd "$ROOT/bench" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true node llama_speed.mjs "$g" "$WORK/tokens.json" "$THREADS" "$DECODE") |
      $PY -c 'import json, sys; j = json.load(sys.stdin); v = sys.argv[1]
print(v, "llama prompt", j["prompt_tokens_per_s"]); print(v, "llama decode", j["decode_tokens_per_s"], *j["new"])' "$v" >> "$MEAS"
    echo "  round $round $v done"
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

SECTION=$WORK/section.md
$PY - "$MEAS" "$SECTION" "$THREADS" "$PROMPT" "$DECODE" "$ROUNDS" "$(git -C "$ROOT" rev-parse --short HEAD)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "$(head -n1 "$WORK/make.log" | sed "s/^[^:]*: //")" <<'PYEOF'
import statistics, sys, time
meas, section, threads, prompt, decode, rounds, commit, cpu, nproc, load0, load1, model = sys.argv[1:13]
speed, ids = {}, {}
for line in open(meas):
    v, engine, kind, value, *rest = line.split()
    speed.setdefault((v, engine, kind), []).append(float(value))
    if rest:
        ids[(v, engine)] = rest
med = {k: statistics.median(x) for k, x in speed.items()}
rows = []
for v in ("f32", "bf16", "q8_0"):
    cells = [v]
    for kind in ("prompt", "decode"):
        s, l = med[(v, "supra", kind)], med[(v, "llama", kind)]
        cells += [f"{s:.1f}", f"{l:.1f}", f"{s / l:.2f}x"]
    # supra generates DECODE + 1 ids, llama.cpp's evaluate() yields the same count.
    cells.append("yes" if ids[(v, "supra")] == ids[(v, "llama")] else "no")
    rows.append("| " + " | ".join(cells) + " |")
with open(section, "w") as f:
    f.write(f"""<!-- forward_bench:begin (written by bench/forward_bench.sh; do not edit by hand) -->
## Forward pass: supra vs llama.cpp (bench/forward_bench.sh)

Reproduce: `bash bench/forward_bench.sh {threads} {prompt}` (needs node-llama-cpp from tools/install_deps.sh).
Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}. CPU: {cpu}, nproc = {nproc};
load average before: {load0}, after: {load1} (the machine is shared: ratios are what to read).

Model: {model}; GGUF files written by supra. {prompt} prompt tokens (random ids, seed 0), {threads} threads,
{decode} timed greedy decode steps; median of {rounds} rounds. supra: `supra logits --positions last`
(prompt) and `supra generate` (decode), times of the forward passes only; llama.cpp: node-llama-cpp,
f32 KV cache, no flash attention, time around evaluate() only.

| weights | supra prompt tok/s | llama.cpp prompt tok/s | ratio | supra decode tok/s | llama.cpp decode tok/s | ratio | same greedy ids |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n<!-- forward_bench:end -->\n")
PYEOF
$PY "$ROOT/bench/write_results_section.py" "$RESULTS" forward_bench "$SECTION"
cat "$SECTION"
