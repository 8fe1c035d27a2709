#!/usr/bin/env bash
# The main job on the built-in demo model: make a small checkpoint, inspect
# it, convert it to another dtype and back, and show that nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
supra=build/supra
out=build/demo
rm -rf "$out" && mkdir -p "$out"
set -x
$supra demo-model "$out/tiny-llama.safetensors"
$supra inspect "$out/tiny-llama.safetensors"
$supra convert "$out/tiny-llama.safetensors" "$out/tiny-llama-f32.safetensors" --dtype f32
$supra convert "$out/tiny-llama-f32.safetensors" "$out/tiny-llama-back.safetensors" --dtype bf16
cmp "$out/tiny-llama.safetensors" "$out/tiny-llama-back.safetensors"
$supra convert "$out/tiny-llama.safetensors" "$out/tiny-llama-f16.safetensors" --dtype f16
$supra convert "$out/tiny-llama.safetensors" "$out/hf-sharded" --max-shard-size 100KB
$supra inspect --stats "$out/hf-sharded"
# A Hugging Face folder (config + tokenizer) to llama.cpp's GGUF and back.
$supra demo-model "$out/hf"
$supra convert "$out/hf" "$out/tiny-llama.gguf"
$supra inspect "$out/tiny-llama.gguf"
$supra convert "$out/tiny-llama.gguf" "$out/hf-back" --dtype bf16
cmp "$out/hf/model.safetensors" "$out/hf-back/model.safetensors"
{ set +x; } 2>/dev/null
echo "demo: bf16 -> f32 -> bf16 and HF -> GGUF -> HF are byte-identical; outputs in $out"
