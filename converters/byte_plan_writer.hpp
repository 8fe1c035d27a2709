#pragma once
// The shared back end of every writer whose files' bytes are planned before any
// tensor is read (safetensors, GGUF, npy): each file is a header plus tensors
// at fixed offsets. Tensors are streamed in bounded chunks by N threads with
// positional writes; bytes that sit unchanged in an input file are copied
// kernel-side with copy_file_range.
#include <cstdint>
#include <string>
#include <vector>

#include "converters/format.hpp"
#include "converters/output_transaction.hpp"

namespace supra {

// Where every byte of one output file comes from. ("Layout" in this project
// is a naming convention, --layout: schema/relayout, converters/relayout.)
struct FileBytePlan {
  std::string name;                // relative to the output folder
  std::vector<std::byte> header;   // written at offset 0
  struct Placement {
    TensorPtr source;
    uint64_t offset;  // absolute byte offset in the file
  };
  std::vector<Placement> tensors;
  // Small byte blocks at fixed offsets between tensors (e.g. zip local headers).
  struct Block {
    uint64_t offset;
    std::vector<std::byte> bytes;
  };
  std::vector<Block> blocks;
  std::vector<std::byte> trailer;  // written at trailer_offset (e.g. a zip central directory)
  uint64_t trailer_offset = 0;
  uint64_t size = 0;               // final file size; gaps are zero bytes
};

// Chunk size of streamed reads: also the unit of peak-memory predictions.
inline constexpr uint64_t kStreamChunkBytes = 8ull << 20;
// Chunk size of write_byte_plans' read -> cast -> pwrite loop. Small enough that
// a worker's input and output chunks stay in its L2 cache: 8 MiB chunks made
// the kernel's copies in and out of user memory run from DRAM and the cast
// convert 3x slower (bench/RESULTS.md).
inline constexpr uint64_t kWriteChunkBytes = 256ull << 10;

// Predicted peak of the buffers write_byte_plans allocates.
uint64_t predicted_peak_memory(const std::vector<FileBytePlan>& files, int threads);

// Writes `files` through `tx` (not committed here). Cast statistics and byte
// counts go to `report`.
void write_byte_plans(OutputTransaction& tx, const std::vector<FileBytePlan>& files, const WriteOptions& options,
                      WriteReport& report);

// Turns byte plans into the plan a --dry-run prints.
WritePlan plan_from_byte_plans(const std::vector<FileBytePlan>& files, int threads);

}  // namespace supra
