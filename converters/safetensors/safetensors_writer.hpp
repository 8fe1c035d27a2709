#pragma once
// safetensors writer: canonical layout (tensors ordered by dtype alignment
// then name, header padded with spaces to 8 bytes, so every tensor is aligned
// to its element size), `__metadata__` kept, optional sharding with an index.
#include <filesystem>
#include <string>
#include <vector>

#include "converters/format.hpp"
#include "converters/byte_plan_writer.hpp"

namespace supra {

// Output naming: a folder gets model.safetensors (or model-0000i-of-0000n +
// model.safetensors.index.json); a file foo.safetensors gets
// foo-0000i-of-0000n.safetensors + foo.safetensors.index.json beside it.
struct SafetensorsOutput {
  std::vector<FileBytePlan> files;  // shards, then the index file (if sharded)
};

SafetensorsOutput layout_safetensors(const Checkpoint& ckpt, const std::filesystem::path& out,
                                     uint64_t max_shard_size);
WritePlan plan_safetensors(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_safetensors(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                              OutputTransaction& tx);
// The header bytes (length prefix + padded JSON) for tensors at given offsets.
std::vector<std::byte> safetensors_header(const std::map<std::string, std::string>& metadata,
                                          const std::vector<TensorInfo>& tensors,
                                          const std::vector<uint64_t>& begins);

}  // namespace supra
