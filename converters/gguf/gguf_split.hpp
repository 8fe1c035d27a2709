#pragma once
// Split GGUF as llama.cpp's gguf-split writes it (tools/gguf-split): files
// "<stem>-00001-of-00003.gguf" (5 digits, 1-based), each with the KVs
// split.no (u16, 0-based), split.count (u16) and split.tensors.count (i32,
// tensors in the whole set); every other KV only in the first file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "converters/gguf/gguf_reader.hpp"

namespace supra {

struct GgufSplitKeys {
  uint64_t no = 0, count = 1, tensors = 0;
};

// The split keys of `g` if it has split.count (gguf.131 when malformed).
std::optional<GgufSplitKeys> gguf_split_keys(const GgufFile& g);
void add_gguf_split_kvs(std::vector<GgufKV>& kvs, uint64_t no, uint64_t count, uint64_t tensors);
void erase_gguf_split_kvs(std::vector<GgufKV>& kvs);

// "<dir>/<stem of out>-0000{no+1}-of-0000{count}.gguf".
std::filesystem::path gguf_split_name(const std::filesystem::path& out, uint64_t no, uint64_t count);

// Indices where each file starts when tensors of `sizes` bytes are cut, in
// order, into files of at most `max_bytes` (0: one file); a tensor larger
// than that gets a file of its own.
std::vector<size_t> gguf_split_starts(const std::vector<uint64_t>& sizes, uint64_t max_bytes);

// The whole set `member` belongs to as one checkpoint: KVs of the first file
// (without the split keys), tensors of all files in order, files = every
// member. Refuses a missing member (gguf.130) and members that disagree
// (gguf.131).
Checkpoint read_gguf_split(const GgufFile& member, const GgufSplitKeys& keys);

}  // namespace supra
