#!/usr/bin/env bash
# Tokenizer throughput (MB/s of text) of supra's tokenizer against Hugging
# Face's tokenizers (the Rust library, through its Node binding), tokenizers.js
# and llama.cpp's tokenizer (node-llama-cpp), all on the same text in one run,
# and a check that every one of them gave the same ids as supra. Writes its own
# section of bench/RESULTS.md (between the tokenizer_bench markers).
#
#   bash bench/tokenizer_bench.sh [REPEATS]   # text: the licenses REPEATS times (default 4, ~1 MB)
#
# Text: every file of /usr/share/common-licenses (no symlinks), concatenated.
# Vocabularies: the llama3 (byte-level, Llama-3 regex, 1000 merges) and spm
# (SentencePiece BPE, byte fallback) fixtures of tests/fixtures/tokenizers; for
# llama.cpp and for supra's GGUF reader, a GGUF of a tiny model around each
# (tests/interop/tokenizer_model.py). Each implementation encodes the whole
# text as one string, no BOS/EOS; the best of RUNS (default 5) is reported,
# load time excluded.
set -euo pipefail

REPEATS=${1:-4}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
WORK=${WORK_DIR:-$ROOT/bench/work-tokenizer}
RESULTS=${RESULTS_FILE:-$ROOT/bench/RESULTS.md}
PY=/usr/bin/python3
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
rm -rf "$WORK" && mkdir -p "$WORK"

echo "== build (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSUPRA_BUILD_BENCH=ON > /dev/null
cmake --build "$BUILD" -j2 --target supra tokenizer_throughput > /dev/null

TEXT=$WORK/licenses.txt
for _ in $(seq "$REPEATS"); do
  find /usr/share/common-licenses -maxdepth 1 -type f | sort | xargs cat
done > "$TEXT"
echo "== text: $(stat -c %s "$TEXT") bytes"

rows=()
for fixture in llama3 spm; do
  dir=$ROOT/tests/fixtures/tokenizers/$fixture
  $PY -c "import sys; sys.path.insert(0, '$ROOT/tests/interop'); import tokenizer_model; tokenizer_model.make_model_folder('$dir', '$WORK/$fixture-model')"
  "$BUILD/supra" convert "$WORK/$fixture-model" "$WORK/$fixture.gguf" > /dev/null
  mkdir -p "$WORK/$fixture-ids"
  echo "== $fixture"
  ours=$("$BUILD/tokenizer_throughput" "$dir" "$TEXT" "$RUNS" "$WORK/$fixture-ids/ours.json")
  ours_gguf=$("$BUILD/tokenizer_throughput" "$WORK/$fixture.gguf" "$TEXT" "$RUNS" "$WORK/$fixture-ids/ours_gguf.json")
  refs=$(node "$ROOT/bench/tokenizer_bench.mjs" "$dir" "$WORK/$fixture.gguf" "$TEXT" "$RUNS" "$WORK/$fixture-ids")
  rows+=("$($PY - "$fixture" "$ours" "$ours_gguf" "$refs" "$WORK/$fixture-ids" <<'PYEOF'
import json, sys
fixture, ours, ours_gguf, refs, ids_dir = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
ids = {n: json.load(open(f"{ids_dir}/{n}.json")) for n in ("ours", "ours_gguf", "rust", "js", "llama")}
same = lambda a, b: "yes" if ids[a] == ids[b] else "NO"
def mbps(r): return r["bytes"] / r["seconds"] / 1e6
rows = [("supra (tokenizer.json)", ours, "-"), ("HF tokenizers, Rust", refs["rust"], same("ours", "rust")),
        ("tokenizers.js", refs["js"], same("ours", "js")), ("supra (GGUF)", ours_gguf, "-"),
        ("llama.cpp (GGUF)", refs["llama"], same("ours_gguf", "llama"))]
for name, r, s in rows:
    print(f"| {fixture} | {name} | {r['tokens']} | {r['seconds'] * 1000:.1f} | {mbps(r):.2f} | {s} |")
PYEOF
)")
done

SECTION=$WORK/section.md
{
  echo "<!-- tokenizer_bench:begin (written by bench/tokenizer_bench.sh; do not edit by hand) -->"
  echo "## Tokenizer throughput (bench/tokenizer_bench.sh)"
  echo
  echo "\`bash bench/tokenizer_bench.sh $REPEATS\` on $(date -u +%Y-%m-%d), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with other jobs."
  echo "Text: /usr/share/common-licenses concatenated $REPEATS times, $(stat -c %s "$TEXT") bytes, encoded as one"
  echo "string without BOS/EOS; best of $RUNS runs, load time excluded. \"same ids\": the reference gave"
  echo "exactly supra's ids (tokenizer.json rows against supra on tokenizer.json, llama.cpp against supra on the GGUF)."
  echo
  echo "| vocabulary | tokenizer | tokens | ms | MB/s | same ids |"
  echo "|---|---|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "The vocabularies are the small test fixtures (1260 and 802 tokens); a 128k-token vocabulary"
  echo "has longer merges per word, so absolute numbers differ for real models."
  echo "<!-- tokenizer_bench:end -->"
} > "$SECTION"
$PY "$ROOT/bench/write_results_section.py" "$RESULTS" tokenizer_bench "$SECTION"
cat "$SECTION"
