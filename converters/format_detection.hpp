#pragma once
// How each format recognises an input and claims an output name, for the
// format table (format_registry.cpp). Each pair lives in its format's folder
// (<folder>/<name>_format.cpp); readers and writers are declared in their own
// headers. `head` is the first bytes of the file (up to 4 KiB, empty for a folder).
#include <filesystem>
#include <span>

#include "converters/format.hpp"

namespace supra {

bool sniff_safetensors(const fs::path& path, std::span<const std::byte> head);
bool claims_safetensors_output(const fs::path& out);  // x.safetensors, or a folder

bool sniff_meta_folder(const fs::path& path, std::span<const std::byte> head);
// A Meta folder: consolidated.NN.pth shards merged by params.json.
Checkpoint read_meta_folder(const fs::path& folder, const ReadOptions& options);

bool sniff_pytorch(const fs::path& path, std::span<const std::byte> head);
bool claims_pytorch_output(const fs::path& out);  // .pt .pth .bin .ckpt

bool sniff_numpy(const fs::path& path, std::span<const std::byte> head);
bool claims_numpy_output(const fs::path& out);  // .npy .npz

bool sniff_gguf(const fs::path& path, std::span<const std::byte> head);
bool claims_gguf_output(const fs::path& out);  // .gguf

bool sniff_hdf5(const fs::path& path, std::span<const std::byte> head);
bool claims_hdf5_output(const fs::path& out);  // .h5 .hdf5 .he5

bool sniff_stz(const fs::path& path, std::span<const std::byte> head);
bool claims_stz_output(const fs::path& out);  // .stz

bool sniff_zstd_compressed(const fs::path& path, std::span<const std::byte> head);
// Any checkpoint compressed with zstd, decompressed to a temporary and read by its own format.
Checkpoint read_zstd_compressed(const fs::path& path, const ReadOptions& options);

}  // namespace supra
