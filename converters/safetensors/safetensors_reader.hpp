#pragma once
// safetensors reader: single files and sharded checkpoints
// (*.safetensors.index.json). Enforces every rule of the reference
// implementation (huggingface/safetensors tensor.rs), each with its own error id.
#include <filesystem>
#include <memory>

#include "schema/checkpoint.hpp"
#include "schema/mapped_file.hpp"

namespace supra {

// Reads one .safetensors file; tensors are views into it.
Checkpoint read_safetensors_file(const std::filesystem::path& path);
// Same, from a file already opened (tests and fuzzers use this).
Checkpoint read_safetensors_file(std::shared_ptr<const MappedFile> file);
// Reads a sharded checkpoint through its index file.
Checkpoint read_safetensors_index(const std::filesystem::path& index_path);
// Resolves a path the user gave (file, index, or folder) and reads it.
Checkpoint read_safetensors(const std::filesystem::path& path);

}  // namespace supra
