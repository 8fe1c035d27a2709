#!/usr/bin/env bash
# Speed and peak memory of every reader (issue 3) and of the llama.cpp paths
# (issue 4) on a multi-GiB Llama-shaped checkpoint, each against `cp` / `cat`
# of the same input file measured in the same run. Writes its own section of
# bench/RESULTS.md (between the format_bench markers; other sections are
# left as they are).
#
#   bash bench/format_bench.sh [SIZE_GIB]      # default 2 (about 6 minutes on 2 cores)
#
# Inputs are made by supra itself from one bf16 HF folder
# (bench/make_llama_folder.py: hidden 4096, MLP 11008, 32 heads, 8 kv heads,
# vocab 32000): .pt, GGUF F16, .h5, .npz (f32: numpy has no bf16), .stz, and
# .safetensors.zst (zstd CLI, level 3). The Q4_K GGUF comes from
# bench/make_q4k_gguf.py (same shapes and layer count).
#
# As bench/convert_bench.sh: every command runs with its input in the page
# cache (read right before), 3 times in round-robin order with its baselines
# (a noisy neighbour on the shared machine hits them alike); the median time
# and the largest peak RSS (/usr/bin/time %M) are reported. Outputs are
# deleted and synced between runs, outside the timings.
set -euo pipefail

SIZE_GIB=${1:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fbench}
WORK=${WORK_DIR:-$ROOT/bench/work-format}
RESULTS=${RESULTS_FILE:-$ROOT/bench/RESULTS.md}  # another file only for a smoke run
ROUNDS=${ROUNDS:-3}  # fewer only for a quick smoke run
TIME=/usr/bin/time
PY=/usr/bin/python3
[[ -x $TIME ]] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }
command -v zstd > /dev/null || { echo "needs the zstd CLI: apt-get install zstd" >&2; exit 1; }

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSUPRA_BUILD_BENCH=OFF > /dev/null
cmake --build "$BUILD" -j"$(nproc)" --target supra > /dev/null
SUPRA=$BUILD/supra

rm -rf "$WORK" && mkdir -p "$WORK"
echo '*' > "$WORK/.gitignore"
HF=$WORK/hf
OUT=$WORK/out.safetensors
echo "== make a ${SIZE_GIB} GiB bf16 Llama folder in $HF"
$PY "$ROOT/bench/make_llama_folder.py" "$HF" "$SIZE_GIB" | tee "$WORK/make.log"
MODEL=$HF/model.safetensors
MODEL_BYTES=$(stat -c %s "$MODEL")
LAYERS=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$HF/config.json")

bytes_of() { du -cb "$@" | tail -n 1 | cut -f1; }  # file(s) or folder
largest_tensor() {  # largest tensor in the file as its reader presents it (dequantized: f32)
  "$SUPRA" inspect --json "$1" | $PY -c 'import json,sys; print(max(t["bytes"] for t in json.load(sys.stdin)["tensors"]))'
}
warm() { for f in "$@"; do if [[ -d $f ]]; then cat "$f"/* > /dev/null; else cat "$f" > /dev/null; fi; done; }

declare -A SECS RSS
ROWS=()  # "section|name|input bytes|baseline name|largest tensor bytes|rss checked (0/1)"

run_once() {  # key command inputs_to_warm...
  local key=$1 cmd=$2; shift 2
  rm -rf "$OUT" "$WORK/out" "$WORK"/out.*
  sync
  warm "$@"
  if ! eval "$TIME -f '%e %M' -o $WORK/time.txt $cmd" > "$WORK/cmd.log" 2>&1; then
    echo "FAILED: $cmd" >&2
    cat "$WORK/cmd.log" "$WORK/time.txt" >&2
    exit 1
  fi
  local sec kb
  read -r sec kb < <(tail -n 1 "$WORK/time.txt")
  SECS[$key]+="$sec "
  RSS[$key]=$(( kb > ${RSS[$key]:-0} ? kb : ${RSS[$key]:-0} ))
  printf '  %-52s %6.2f s  %7d KiB\n' "$key" "$sec" "$kb"
}

measure() {  # warm_inputs(space separated) "key|command"...
  local inputs=$1; shift
  for round in $(seq 1 $ROUNDS); do
    echo "-- round $round of $ROUNDS"
    for c in "$@"; do
      # shellcheck disable=SC2086
      run_once "${c%%|*}" "${c#*|}" $inputs
    done
  done
  rm -rf "$OUT" "$WORK/out" "$WORK"/out.*
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)

# ---- issue 3: each reader, `inspect --stats` vs cat, `convert -> safetensors` vs cp
reader_case() {  # label file [extra "name|command" shown without a ratio]
  local label=$1 file=$2 extra=("${@:3}") bytes largest
  bytes=$(stat -c %s "$file")
  largest=$(largest_tensor "$file")
  echo "== reader: $label ($(awk -v b="$bytes" 'BEGIN {printf "%.2f GiB", b / 2^30}'))"
  measure "$file" \
    "$label: cat > /dev/null|sh -c 'cat $file > /dev/null'" \
    "$label: supra inspect --stats|sh -c '$SUPRA inspect --stats $file > /dev/null'" \
    "$label: cp|cp $file $WORK/out.copy" \
    "$label: cp + fsync|sh -c 'cp $file $WORK/out.copy && sync $WORK/out.copy'" \
    "$label: supra convert -> .safetensors|$SUPRA convert $file $OUT" \
    "${extra[@]/#/$label: }"
  ROWS+=("readers|$label: cat > /dev/null|$bytes|$label: cat > /dev/null|$largest|0"
         "readers|$label: supra inspect --stats|$bytes|$label: cat > /dev/null|$largest|1"
         "readers|$label: cp|$bytes|$label: cp + fsync|$largest|0"
         "readers|$label: cp + fsync|$bytes|$label: cp + fsync|$largest|0"
         "readers|$label: supra convert -> .safetensors|$bytes|$label: cp + fsync|$largest|1")
  for e in "${extra[@]}"; do ROWS+=("readers|$label: ${e%%|*}|$bytes|-|$largest|0"); done
}

make_input() {  # label file command
  echo "== make $1: $3"
  eval "$3" > "$WORK/make_input.log" 2>&1 || { cat "$WORK/make_input.log" >&2; exit 1; }
  sync
}

reader_case "safetensors (bf16)" "$MODEL"
for spec in \
  "PyTorch .pt (bf16)|$WORK/in.pt|$SUPRA convert $MODEL $WORK/in.pt" \
  "GGUF (F16)|$WORK/in-f16.gguf|$SUPRA convert $HF $WORK/in-f16.gguf --dtype f16" \
  "HDF5 .h5 (bf16)|$WORK/in.h5|$SUPRA convert $MODEL $WORK/in.h5" \
  "NumPy .npz (f32)|$WORK/in.npz|$SUPRA convert $MODEL $WORK/in.npz --dtype f32" \
  "archive .stz (bf16)|$WORK/in.stz|$SUPRA convert $MODEL $WORK/in.stz" \
  ".safetensors.zst (bf16, zstd -3)|$WORK/in.safetensors.zst|zstd -q -3 -T0 $MODEL -o $WORK/in.safetensors.zst"; do
  IFS='|' read -r label file cmd <<< "$spec"
  make_input "$label" "$file" "$cmd"
  extra=()  # what supra's transparent .zst input costs at least: zstd's own decompression
  [[ $file == *.zst ]] && extra=("zstd -dc > /dev/null|sh -c 'zstd -dc $file > /dev/null'")
  reader_case "$label" "$file" "${extra[@]}"
  rm -f "$file"
done

# ---- issue 4: HF (bf16) -> GGUF f16 / Q8_0, GGUF Q4_K -> HF safetensors f16
echo "== issue 4: HF folder -> GGUF"
largest=$(largest_tensor "$MODEL")
measure "$MODEL $HF/config.json" \
  "HF bf16: cp model.safetensors|cp $MODEL $WORK/out.copy" \
  "HF bf16: cp + fsync|sh -c 'cp $MODEL $WORK/out.copy && sync $WORK/out.copy'" \
  "HF bf16 -> GGUF f16 (--dtype f16)|$SUPRA convert $HF $WORK/out.gguf --dtype f16" \
  "HF bf16 -> GGUF Q8_0 (--quantize q8_0)|$SUPRA convert $HF $WORK/out.gguf --quantize q8_0"
ROWS+=("gguf|HF bf16: cp model.safetensors|$MODEL_BYTES|HF bf16: cp + fsync|$largest|0"
       "gguf|HF bf16: cp + fsync|$MODEL_BYTES|HF bf16: cp + fsync|$largest|0"
       "gguf|HF bf16 -> GGUF f16 (--dtype f16)|$MODEL_BYTES|HF bf16: cp + fsync|$largest|1"
       "gguf|HF bf16 -> GGUF Q8_0 (--quantize q8_0)|$MODEL_BYTES|HF bf16: cp + fsync|$largest|1")

Q4K=$WORK/in-q4_k.gguf
make_input "GGUF Q4_K" "$Q4K" "$PY $ROOT/bench/make_q4k_gguf.py $Q4K $SIZE_GIB"
Q4K_BYTES=$(stat -c %s "$Q4K")
Q4K_LARGEST=$(largest_tensor "$Q4K")
# Q4_K -> f16 writes 3.6x the bytes it reads: the fair baseline is a copy of
# the output's size (the HF model.safetensors, the same shapes in 2-byte
# values), shown next to a copy of the Q4_K file itself.
echo "== issue 4: GGUF Q4_K -> HF folder f16"
measure "$Q4K $MODEL" \
  "Q4_K: cp in-q4_k.gguf|cp $Q4K $WORK/out.copy" \
  "Q4_K: cp + fsync in-q4_k.gguf|sh -c 'cp $Q4K $WORK/out.copy && sync $WORK/out.copy'" \
  "Q4_K: cp + fsync of an f16-sized file|sh -c 'cp $MODEL $WORK/out.copy && sync $WORK/out.copy'" \
  "GGUF Q4_K -> HF safetensors f16 (--dtype f16)|$SUPRA convert $Q4K $WORK/out --dtype f16" \
  "Q4_K: supra inspect --stats|sh -c '$SUPRA inspect --stats $Q4K > /dev/null'"
ROWS+=("q4k|Q4_K: cp in-q4_k.gguf|$Q4K_BYTES|Q4_K: cp + fsync in-q4_k.gguf|$Q4K_LARGEST|0"
       "q4k|Q4_K: cp + fsync in-q4_k.gguf|$Q4K_BYTES|Q4_K: cp + fsync in-q4_k.gguf|$Q4K_LARGEST|0"
       "q4k|Q4_K: cp + fsync of an f16-sized file|$MODEL_BYTES|Q4_K: cp + fsync of an f16-sized file|$Q4K_LARGEST|0"
       "q4k|GGUF Q4_K -> HF safetensors f16 (--dtype f16)|$MODEL_BYTES|Q4_K: cp + fsync of an f16-sized file|$Q4K_LARGEST|1"
       "q4k|Q4_K: supra inspect --stats|$Q4K_BYTES|-|$Q4K_LARGEST|1")

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - START ))

median() { tr ' ' '\n' | grep -v '^$' | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }

row() {  # name bytes baseline largest check_rss
  local s=${SECS[$1]} m base=- base_s=0
  m=$(echo "$s" | median)
  if [[ $3 != - ]]; then base_s=$(echo "${SECS[$3]}" | median); fi
  awk -v name="$1" -v runs="$s" -v m="$m" -v base="$base_s" -v rss="${RSS[$1]}" -v largest="$4" \
      -v check="$5" -v bytes="$2" '
    BEGIN {
      limit = 256 * 1024 * 1024 + largest
      verdict = check == 1 ? sprintf("%s (< %.0f)", rss * 1024 < limit ? "yes" : "NO", limit / 2^20) : "-"
      ratio = base > 0 ? sprintf("%.2fx", base / m) : "-"
      printf("| %s | %.2f | %.2f | %s| %.2f | %s | %.1f | %.1f | %s |\n",
             name, bytes / 2^30, m, runs, bytes / m / 1e9, ratio, rss / 1024, largest / 2^20, verdict)
    }'
}

table() {  # section
  echo "| command | GiB | median s | runs s | GB/s | ratio | peak RSS MiB | largest tensor MiB | RSS bounded |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do
    IFS='|' read -r section name bytes base largest check <<< "$r"
    if [[ $section == "$1" ]]; then row "$name" "$bytes" "$base" "$largest" "$check"; fi
  done
}

SECTION=$WORK/section.md
{
  echo "<!-- format_bench:begin (written by bench/format_bench.sh; do not edit by hand) -->"
  echo "## Readers and llama.cpp paths (bench/format_bench.sh)"
  echo
  echo "Reproduce (from the repository root; builds Release in build-fbench/, needs"
  echo "/usr/bin/python3 with numpy, GNU time, the zstd CLI and about 4 x ${SIZE_GIB} GiB of free disk):"
  echo
  echo '```sh'
  echo "bash bench/format_bench.sh $SIZE_GIB"
  echo '```'
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
       "($ELAPSED s in all); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc = $(nproc)," \
       "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(df -T "$WORK" | awk 'NR == 2 {print $2}')."
  echo "Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER (the 2 cores are shared)."
  echo
  echo "Input: bench/make_llama_folder.py, a Llama folder with $LAYERS layers (hidden 4096, MLP 11008,"
  echo "32 heads, 8 kv heads, vocab 32000, untied), bf16 N(0, 0.02):"
  echo "$(awk -v b="$MODEL_BYTES" 'BEGIN {printf "%.2f GiB (%.0f bytes)", b / 2^30, b}') of safetensors. Every other"
  echo "reader's input is made from it by supra (the .safetensors.zst by \`zstd -3\`)."
  echo
  echo "Median of $ROUNDS runs, input in the page cache. GiB = the bytes GB/s counts:"
  echo "the input file's (compressed for .stz and .zst; f32 for .npz), for Q4_K -> f16"
  echo "the f16 *output*'s. GB/s = those bytes / median time (10^9). Ratio = baseline"
  echo "time / time: \`cat > /dev/null\` of the same file for \`inspect --stats\`,"
  echo "\`cp + fsync\` of the same file for \`convert\` (supra fsyncs its output"
  echo "before renaming it into place). Plain \`cp\` is shown too but varies most:"
  echo "it returns once its pages are dirty, so its time depends on how much of"
  echo "earlier runs' writes the kernel is still flushing. \"RSS bounded\":"
  echo "peak RSS below 256 MiB + the largest tensor, i.e. memory does not grow"
  echo "with the model."
  echo
  echo "### Readers (issue 3): \`supra inspect --stats FILE\` and \`supra convert FILE out.safetensors\`"
  echo
  table readers
  echo
  echo "### llama.cpp paths (issue 4)"
  echo
  echo "\`supra convert HF_FOLDER out.gguf --dtype f16\` and \`--quantize q8_0\` (llama.cpp"
  echo "layout: names, RoPE permutation of q/k, 1-D tensors f32, no tokenizer.json so"
  echo "\`tokenizer.ggml.model = none\`); GB/s = bf16 input bytes."
  echo
  table gguf
  echo
  echo "\`supra convert in-q4_k.gguf OUT_DIR --dtype f16\` (bench/make_q4k_gguf.py: the same"
  echo "shapes with every 2-D weight Q4_K, $(awk -v b="$Q4K_BYTES" 'BEGIN {printf "%.2f GiB", b / 2^30}');"
  echo "written as an HF folder: RoPE un-permuted, config.json). GB/s = f16 output bytes"
  echo "for the convert (its ratio is against \`cp + fsync\` of a file of the output's"
  echo "size), Q4_K input bytes for the copies of the Q4_K file and for \`inspect --stats\`."
  echo
  table q4k
  echo
  echo "### What these numbers showed, and what was changed"
  echo
  echo "- \`.stz\` read 16x to 64x too much: writers ask for 256 KiB chunks and"
  echo "  \`--stats\` for smaller pieces, and each read decompressed the whole 4 MiB"
  echo "  block around it. Each thread now keeps its last decoded block"
  echo "  (converters/zstd/stz_reader.cpp). Before, on a 0.82 GiB model:"
  echo "  \`inspect --stats\` 13.6 s and \`convert\` 14.5 s (0.06 GB/s of raw data)."
  echo "- \`--quantize q8_0\` spent its time in a libm \`roundf\` call per value;"
  echo "  rounding by truncation and comparison (same bytes: checked on 3e9 float"
  echo "  patterns and on the output file) made it 2.4x faster, 3.06 s -> 1.29 s"
  echo "  on a 0.82 GiB model (converters/gguf/quantize.cpp)."
  echo "- \`.pt\` and \`.npz\` check the CRC-32 of every stored member when they open,"
  echo "  which reads the whole file once more before the first tensor (\`supra"
  echo "  inspect\` without \`--stats\` reads every byte). The pass is now"
  echo "  split over the cores (converters/zip/zip_reader.cpp); it is the gap left"
  echo "  between these readers and safetensors."
  echo "- \`supra convert\` opened its input twice: the CLI planned in a separate dry"
  echo "  run to size its progress bar. For .pt/.npz that meant two CRC passes, for"
  echo "  .zst two full decompressions (convert took 2.8x as long as \`inspect"
  echo "  --stats\`). The plan now reaches the CLI through \`ConvertOptions::on_plan\`"
  echo "  (converters/convert.*, tools/convert_command.cpp)."
  echo "- \`.safetensors.zst\` is decompressed into a temporary file first (by design,"
  echo "  so the inner reader can mmap it): its time is \`zstd -dc\` plus writing"
  echo "  and reading that file."
  echo "- Known, not fixed: deflate-compressed \`.npz\` members (\`np.savez_compressed\`)"
  echo "  and deflated \`.pt\` members are inflated whole into memory when the file"
  echo "  opens (converters/numpy/numpy_reader.cpp, converters/pytorch/pytorch_reader.cpp),"
  echo "  so for those inputs peak RSS grows with the model. supra's own writers"
  echo "  store members uncompressed, as \`torch.save\` does, so the inputs above are"
  echo "  not affected."
  echo "<!-- format_bench:end -->"
} > "$SECTION"

# Replace our own section in RESULTS.md, or append it; nothing else changes.
$PY "$ROOT/bench/write_results_section.py" "$RESULTS" format_bench "$SECTION"

echo "== wrote our section of $RESULTS"
cat "$SECTION"
