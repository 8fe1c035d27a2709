#pragma once
// Reads the .stz archive (stz_layout.hpp). The index is checked whole when
// the archive opens; each block is checked (size, checksum) as it is read.
// Tensors decompress lazily, block by block, on whichever thread asks.
#include <filesystem>
#include <span>

#include "schema/checkpoint.hpp"

namespace supra {

bool has_stz_magic(std::span<const std::byte> head);
Checkpoint read_stz(const std::filesystem::path& path);

}  // namespace supra
