#!/usr/bin/env bash
# Compression ratio and speed of supra's .stz archive vs plain `zstd` of the
# raw safetensors file, at the same level (3), on normal-distributed bf16 and
# f32 weights (std 0.02, like initialized / trained transformer matrices).
# Usage: bash bench/archive_bench.sh [SUPRA_BINARY] [MB_PER_FILE] [THREADS]
# Prints a markdown table (copy into bench/RESULTS.md).
set -euo pipefail
SUPRA=${1:-build/supra}
MB=${2:-256}
THREADS=${3:-$(nproc)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/supra-archive-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
# seconds -> GB/s of the raw bytes
gbps() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.2f", b / (t1 - t0) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

make_weights() {  # DTYPE OUT
  /usr/bin/python3 - "$1" "$2" "$MB" <<'PY'
import json, struct, sys
import numpy as np
dtype, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
elem = 2 if dtype == "BF16" else 4
rows, cols = 4096, 4096
n = max(1, mb * 2**20 // (rows * cols * elem))
rng = np.random.default_rng(0)
header, offset, blobs = {}, 0, []
for i in range(n):
    w = (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02)
    if dtype == "BF16":  # round to nearest even, as torch does
        u = w.view(np.uint32)
        w = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    b = w.tobytes()
    header[f"layers.{i}.weight"] = {"dtype": dtype, "shape": [rows, cols], "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for b in blobs:
        f.write(b)
PY
}

echo "| weights | method | ratio (out/in) | compress GB/s | decompress GB/s |"
echo "|---|---|---|---|---|"
for dtype in BF16 F32; do
  src="$WORK/w-$dtype.safetensors"
  make_weights "$dtype" "$WORK/generated.safetensors"
  # supra's canonical safetensors, so the round trip can be compared byte for byte.
  "$SUPRA" convert "$WORK/generated.safetensors" "$src" --force >/dev/null
  rm "$WORK/generated.safetensors"
  bytes=$(stat -c %s "$src")
  label="$dtype $((bytes / 1000000)) MB"
  sync

  t0=$(now); "$SUPRA" convert "$src" "$WORK/w.stz" --threads "$THREADS" --force >/dev/null; t1=$(now)
  "$SUPRA" convert "$WORK/w.stz" "$WORK/back.safetensors" --threads "$THREADS" --force >/dev/null; t2=$(now)
  cmp "$src" "$WORK/back.safetensors" || { echo "round trip differs" >&2; exit 1; }
  echo "| $label | supra .stz (level 3, byte planes, $THREADS threads) | $(ratio "$(stat -c %s "$WORK/w.stz")" "$bytes") |" \
       "$(gbps "$bytes" "$t0" "$t1") | $(gbps "$bytes" "$t1" "$t2") |"

  for zt in 1 "$THREADS"; do
    t0=$(now); zstd -q -3 -T"$zt" -f "$src" -o "$WORK/w.zst"; t1=$(now)
    zstd -q -d -f "$WORK/w.zst" -o "$WORK/back.raw"; t2=$(now)
    cmp "$src" "$WORK/back.raw"
    echo "| $label | zstd -3 -T$zt (whole file) | $(ratio "$(stat -c %s "$WORK/w.zst")" "$bytes") |" \
         "$(gbps "$bytes" "$t0" "$t1") | $(gbps "$bytes" "$t1" "$t2") |"
  done
  # Reading the compressed file back into safetensors through supra's transparent .zst input.
  t0=$(now); "$SUPRA" convert "$WORK/w.zst" "$WORK/back2.safetensors" --threads "$THREADS" --force >/dev/null; t1=$(now)
  cmp "$src" "$WORK/back2.safetensors"
  echo "| $label | supra convert w.safetensors.zst -> safetensors (transparent input) | - | - | $(gbps "$bytes" "$t0" "$t1") |"
  rm -f "$WORK"/*.zst "$WORK"/*.stz "$WORK"/back*
done
