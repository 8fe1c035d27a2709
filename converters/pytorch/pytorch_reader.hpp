#pragma once
// PyTorch checkpoint reader: the zip format torch.save writes since 1.6
// (<archive>/data.pkl + <archive>/data/<key>), the legacy pre-1.6 pickle
// stream, and sharded pytorch_model.bin.index.json checkpoints. Tensors of
// stored storages are views into the mapped file (zero copy); non-contiguous
// views are gathered by a StridedTensorSource. Error ids: pytorch.1xx-4xx.
#include <filesystem>
#include <span>

#include "converters/format.hpp"
#include "schema/checkpoint.hpp"

namespace supra {

Checkpoint read_pytorch_file(const std::filesystem::path& path, const ReadOptions& options);
Checkpoint read_pytorch_index(const std::filesystem::path& index_path, const ReadOptions& options);
// A file, an index, or a folder holding pytorch_model.bin(.index.json).
Checkpoint read_pytorch(const std::filesystem::path& path, const ReadOptions& options);

// Content checks used by format detection.
bool is_legacy_torch_pickle(std::span<const std::byte> head);
bool looks_like_torch_zip(std::span<const std::byte> head);

}  // namespace supra
