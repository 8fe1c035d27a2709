#pragma once
// A model opened for validation or diff: its canonical view (role + layer,
// one orientation) plus what its file stores each weight as, which decides
// how much numerical difference a comparison should tolerate. The canonical
// view alone cannot say: a GGUF Q4_K tensor reads as F32 there.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "converters/format.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "schema/canonical_model.hpp"

namespace supra {

// The type a tensor's bytes have in its file: the dtype name ("BF16"), or the
// ggml block type ("Q4_K") of a quantized GGUF tensor.
std::string storage_type_of(const TensorSource& tensor);

// Elements per storage type over the floating-point tensors of a checkpoint
// as read from its file (before any re-layout).
std::map<std::string, uint64_t> storage_type_counts(const Checkpoint& raw);

struct OpenedModel {
  std::filesystem::path path;
  CanonicalModel model;
  std::map<std::string, uint64_t> storage_types;  // storage_type_counts of the file
};

// open_canonical_model, keeping the storage types of the file it read.
OpenedModel open_model_with_storage(const std::filesystem::path& path, const LayoutRequest& request = {},
                                    const ReadOptions& read = {});

}  // namespace supra
