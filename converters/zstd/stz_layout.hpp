#pragma once
// The .stz checkpoint archive (docs/archive.md):
//   [header 16 B: magic "\x89STZ\r\n\x1a\n", u32 version = 1, u32 flags = 0]
//   [block frames: each tensor cut into blocks of block_bytes raw bytes, each
//    block byte-planed (float dtypes) and compressed as one zstd frame with
//    its content size and checksum]
//   [index: one zstd frame (with checksum) holding JSON: names, dtypes,
//    shapes, transform, per-block [offset, compressed size], metadata]
//   [footer 32 B: u64 index offset, u64 index frame size, u64 index JSON size,
//    magic "STZINDEX"]
// All integers little-endian.
#include <cstdint>
#include <string>
#include <vector>

#include "schema/dtype.hpp"

namespace supra::stz {

inline constexpr unsigned char kMagic[8] = {0x89, 'S', 'T', 'Z', '\r', '\n', 0x1a, '\n'};
inline constexpr unsigned char kFooterMagic[8] = {'S', 'T', 'Z', 'I', 'N', 'D', 'E', 'X'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kHeaderBytes = 16;
inline constexpr uint64_t kFooterBytes = 32;
inline constexpr uint64_t kDefaultBlockBytes = 4ull << 20;  // multiple of every element size
inline constexpr int kDefaultLevel = 3;                      // zstd's own default
inline constexpr uint64_t kMaxIndexBytes = 1ull << 30;

// Byte-grouping applies to floating-point dtypes of 2, 4 or 8 bytes.
bool uses_byte_planes(DType dtype);

struct Block {
  uint64_t offset = 0;  // of the zstd frame in the file
  uint64_t size = 0;    // compressed bytes
};

}  // namespace supra::stz
