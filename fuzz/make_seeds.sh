#!/usr/bin/env bash
# Seed corpora for the harnesses, from the test fixtures and small files the
# supra binary makes from them: fuzz/make_seeds.sh SUPRA OUT_DIR writes
# OUT_DIR/<harness name without fuzz_>/*. Only files under 256 KiB (the
# harnesses' -max_len) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
supra="$1"
out="$2"
fx=tests/fixtures
rm -rf "$out"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

seed() {  # seed HARNESS FILE...
  local h="$1"
  shift
  mkdir -p "$out/$h"
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 262144 ] || continue
    cp "$f" "$out/$h/$(echo "$f" | tr '/' '_')"
  done
}

# Small checkpoints in every format, from one fixture and the demo model.
"$supra" demo-model "$tmp/demo" --dtype bf16 >/dev/null
for ext in safetensors gguf stz h5 npz pt; do
  "$supra" convert "$fx/pytorch/basic.pt" "$tmp/basic.$ext" >/dev/null 2>&1 || true
done
"$supra" convert "$tmp/demo" "$tmp/demo.gguf" >/dev/null 2>&1 || true
for f in "$fx/pytorch/basic.pt" "$fx/safetensors/stats.safetensors" "$fx/numpy/single.npy" "$tmp/basic.safetensors"; do
  zstd -q -c "$f" >"$tmp/$(basename "$f").zst"
done
printf '{"metadata": {"total_size": 16}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}' \
  >"$tmp/model.safetensors.index.json"

seed safetensors "$fx"/safetensors/*.safetensors "$tmp/basic.safetensors" "$fx"/regressions/safetensors/*
seed safetensors_index "$tmp/model.safetensors.index.json"
seed gguf "$tmp/basic.gguf" "$tmp/demo.gguf" "$fx"/regressions/gguf/*
# Not the regression pickles that are big on purpose (many_none, codecs_encode_repeat):
# they take seconds by their inflated size, which the regression suite checks.
seed pytorch "$fx"/pytorch/*.pt "$fx"/pytorch/sharded/*.bin "$tmp/basic.pt" \
  "$fx"/regressions/pytorch/{torch_save_protocol4,self_referencing_dict,shared_subdicts,key_not_utf8}.pt
mkdir -p "$tmp/pkl"
python3 - "$tmp/pkl" "$fx"/pytorch/*.pt <<'EOF'
import sys, zipfile, os
out = sys.argv[1]
for p in sys.argv[2:]:
    try:
        with zipfile.ZipFile(p) as z:
            for n in z.namelist():
                if n.endswith("data.pkl"):
                    open(os.path.join(out, os.path.basename(p) + ".pkl"), "wb").write(z.read(n))
    except zipfile.BadZipFile:
        pass
EOF
seed unpickler "$tmp"/pkl/*.pkl
seed npy "$fx"/numpy/*.npy
seed npz "$fx"/numpy/*.npz "$tmp/basic.npz"
seed hdf5 "$fx"/hdf5/*.h5 "$tmp/basic.h5"
seed stz "$tmp/basic.stz" "$fx"/regressions/stz/*
seed zst "$tmp"/*.zst "$fx"/regressions/zstd/*
seed model_config schema/architectures/*.json schema/conventions/*.json "$tmp/demo/config.json" \
  "$fx"/regressions/params/*/params.json
seed tokenizer "$tmp/demo/tokenizer.json" "$fx"/regressions/tokenizer/*/tokenizer.json
