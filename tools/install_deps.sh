#!/usr/bin/env bash
# Installs everything supra needs to build and test on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
packages=(
  build-essential cmake pkg-config git
  libhdf5-dev nlohmann-json3-dev libzstd-dev libeigen3-dev libcli11-dev libfmt-dev zlib1g-dev
  libpcre2-dev libicu-dev                    # tokenizer/: split regexes (UTF + UCP), Unicode normalization
  libgtest-dev libbenchmark-dev
  python3-torch python3-numpy python3-h5py   # fixtures and interop tests (/usr/bin/python3)
  python3-scipy                              # scipy.sparse.save_npz files in tests/interop/test_wild_entries.py
  time                                       # /usr/bin/time for peak-memory figures in bench/
  zstd                                       # bench/archive_bench.sh compares with the zstd CLI; regression inputs
  chromium                                   # renders validate's HTML report in tests/interop/test_report_html.py
  clang-14 libclang-rt-14-dev llvm-14        # sanitized suite and libFuzzer (tools/test_sanitized.sh, fuzz/)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# llama.cpp for interop tests: node-llama-cpp's prebuilt CPU binaries, with no
# download or compile step at install time.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
llama_dir="$(dirname "$0")/../tests/interop/llama"
if [ ! -d "$llama_dir/node_modules/node-llama-cpp" ]; then
  (cd "$llama_dir" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# Hugging Face's tokenizers for the tokenizer interop test and bench: tokenizers.js
# (pure JS) and the Rust library's Node binding (prebuilt binaries inside the package).
hf_dir="$(dirname "$0")/../tests/interop/hf_tokenizers"
if [ ! -d "$hf_dir/node_modules/tokenizers" ] || [ ! -d "$hf_dir/node_modules/@huggingface/tokenizers" ]; then
  (cd "$hf_dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
