#pragma once
// Streaming zstd decompression of a whole file into another, with bounded
// memory (libzstd's recommended stream buffers, ~256 KiB): how a
// `model.safetensors.zst` becomes a plain file that every reader can mmap.
#include <filesystem>
#include <span>

namespace supra {

// True when `head` starts with a zstd frame (magic 28 B5 2F FD).
bool has_zstd_magic(std::span<const std::byte> head);

// Decompresses every frame of `in` into `out_fd` (written from its current
// position). Errors: zstd.101 not zstd, zstd.102 truncated, zstd.103
// corrupt, zstd.104 checksum mismatch, zstd.105 needs too much memory;
// io.* when reading or writing fails. Returns the decompressed size.
uint64_t decompress_zstd_file(const std::filesystem::path& in, int out_fd);

}  // namespace supra
