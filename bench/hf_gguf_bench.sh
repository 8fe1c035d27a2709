#!/usr/bin/env bash
# HF -> GGUF with a real-size vocabulary: `supra convert DIR out.gguf --dtype f16`
# (tokenizer.json -> GGUF vocabulary, re-layout, f32 -> f16 cast, write) against
# copying the same number of output bytes with dd (conv=fsync) and cp + sync, in
# the same run; plus `--dry-run` alone (the planning and vocabulary cost).
# Models: bench/make_hf_llama_vocab.py (f32, 8 layers, hidden 1024) with 32000
# and 128256 vocabulary entries. BEFORE=/path/to/old/supra adds its rows.
#
#   bash bench/hf_gguf_bench.sh          # prints a Markdown table
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUPRA=${SUPRA:-$ROOT/build/supra}
WORK=${WORK_DIR:-$ROOT/bench/work-hf-gguf}
RUNS=${RUNS:-3}
PY=/usr/bin/python3
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
rm -rf "$WORK" && mkdir -p "$WORK"

# median of RUNS timings of "$@" (seconds), after removing $OUT
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    rm -f "$OUT"
    sync
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

echo "| vocab | command | median s (of $RUNS) | output MB | ratio vs dd conv=fsync |"
echo "|---|---|---|---|---|"
for vocab in 32000 128256; do
  dir=$WORK/llama-$vocab
  $PY "$ROOT/bench/make_hf_llama_vocab.py" "$dir" "$vocab"
  OUT=$WORK/out.gguf
  "$SUPRA" convert "$dir" "$OUT" --dtype f16 >/dev/null
  bytes=$(stat -c %s "$OUT")
  cp "$OUT" "$WORK/ref.gguf"
  mb=$(echo "scale=0; $bytes / 1000000" | bc)
  OUT=$WORK/copy.gguf
  dd_s=$(median dd if="$WORK/ref.gguf" of="$OUT" bs=8M conv=fsync)
  cp_s=$(median sh -c "cp '$WORK/ref.gguf' '$OUT' && sync '$OUT'")
  OUT=$WORK/out.gguf
  supra_s=$(median "$SUPRA" convert "$dir" "$OUT" --dtype f16)
  dry_s=$(median "$SUPRA" convert "$dir" "$OUT" --dtype f16 --dry-run)
  row() { echo "| $vocab | $1 | $2 | $mb | $(echo "scale=2; $dd_s / $2" | bc)x |"; }
  row "dd bs=8M conv=fsync (baseline)" "$dd_s"
  row "cp + sync" "$cp_s"
  row "supra convert DIR out.gguf --dtype f16" "$supra_s"
  row "supra convert ... --dry-run" "$dry_s"
  if [ -n "${BEFORE:-}" ]; then
    row "before: supra convert DIR out.gguf --dtype f16" "$(median "$BEFORE" convert "$dir" "$OUT" --dtype f16)"
    row "before: supra convert ... --dry-run" "$(median "$BEFORE" convert "$dir" "$OUT" --dtype f16 --dry-run)"
  fi
  rm -rf "$dir" "$WORK"/*.gguf
done
