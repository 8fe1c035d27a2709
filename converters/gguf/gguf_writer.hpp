#pragma once
// GGUF v3 writer. The header (KVs + tensor infos) is built up front and the
// tensors are streamed to fixed offsets by byte_plan_writer; every tensor is
// followed by zero padding to the alignment, the last one included.
// Output is deterministic: the same checkpoint and KVs give the same bytes.
#include <filesystem>
#include <string>
#include <vector>

#include "converters/gguf/gguf_metadata.hpp"
#include "converters/byte_plan_writer.hpp"

namespace supra {

struct GgufWriteOptions {
  // "" keeps every tensor's dtype; "q8_0" quantizes 2-D float tensors whose
  // last dim is a multiple of 32 to Q8_0 and writes 1-D float tensors as F32
  // (norms and biases, as llama.cpp's converter does); other tensors keep
  // their dtype.
  std::string quantize;
};

struct GgufOutput {
  FileBytePlan file;
  struct Tensor {
    std::string name;
    uint32_t ggml_type;
    std::vector<uint64_t> shape;  // row-major (GGUF ne is this reversed)
  };
  std::vector<Tensor> tensors;  // in file order, with their output types
};

// Lays out `ckpt` as the GGUF file `out` with exactly the KVs `kvs` (order
// kept), adjusted so the file is consistent:
//   - general.alignment (u32 power of two) is honoured if present, else 32;
//   - a quantized tensor read from a GGUF (DequantizedTensorSource) is
//     written as its blocks, byte for byte;
//   - when a tensor is quantized here, general.file_type (u32, 7 = MOSTLY_Q8_0)
//     and general.quantization_version (u32 2) are set (only when absent if
//     all quantized tensors were copied); when none is quantized,
//     general.quantization_version is dropped and an existing
//     general.file_type is set to what the tensors are (0 all F32, 1 F16, 32 BF16).
// Throws bad_input gguf.3xx for what GGUF cannot hold (docs/gguf.md).
GgufOutput layout_gguf(const Checkpoint& ckpt, std::vector<GgufKV> kvs, const std::filesystem::path& out,
                       const GgufWriteOptions& options);

// layout_gguf cut into files of at most `max_shard_size` tensor bytes (a
// tensor larger than that gets a file of its own), named and keyed like
// llama.cpp's gguf-split (gguf_split.hpp): "out-00001-of-00003.gguf", every
// KV in the first file, split.no / split.count / split.tensors.count in each.
// One file (named `out`, no split keys) when everything fits or the size is 0.
std::vector<GgufOutput> layout_gguf_split(const Checkpoint& ckpt, std::vector<GgufKV> kvs,
                                          const std::filesystem::path& out, const GgufWriteOptions& options,
                                          uint64_t max_shard_size);

// The KVs the registered format writes for `ckpt`: its GGUF KVs
// (format_metadata["gguf"]) if it has them; otherwise general.architecture =
// `architecture` (or "unknown" when empty) followed by each string of
// ckpt.metadata as "supra.meta.<key>" (read back as metadata["<key>"]);
// metadata that is itself a summary of GGUF KVs ("gguf.*") is not carried.
std::vector<GgufKV> default_gguf_kvs(const Checkpoint& ckpt, const std::string& architecture = "");

// The format table's entry points: `ckpt` with default_gguf_kvs, quantized
// as options.quantize says, split as options.max_shard_size says.
WritePlan plan_gguf(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_gguf(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                       OutputTransaction& tx);

// The header bytes: magic, version 3, counts, KVs, tensor infos, zero padding
// to `alignment`. `offsets` are relative to the data section.
std::vector<std::byte> gguf_header(const std::vector<GgufKV>& kvs, const std::vector<GgufOutput::Tensor>& tensors,
                                   const std::vector<uint64_t>& offsets, uint64_t alignment);

}  // namespace supra
