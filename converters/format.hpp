#pragma once
// One reader/writer pair per file format, registered in one table
// (format_registry.cpp). Input formats are detected by content; output
// formats by the output name or an explicit --format.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/float_convert.hpp"

namespace supra {

namespace fs = std::filesystem;

struct ReadOptions {
  std::string key;                  // nested dict key to read (PyTorch: "state_dict")
  bool strip_module_prefix = false;  // drop a common "module." prefix
};

struct WriteOptions {
  uint64_t max_shard_size = 0;  // 0 = one file
  int threads = 1;
  bool force = false;  // overwrite existing outputs
  std::function<void(uint64_t)> on_bytes;  // progress: called with bytes just written
  std::string torch_wrap;                  // PyTorch writer: wrap the state dict under this key
  std::optional<uint64_t> torch_epoch;     // ... beside "epoch": N (open_lm unwraps state_dict only then)
  std::string quantize;                    // GGUF writer: "q8_0" quantizes 2-D weights
};

// One tensor of the output as a writer will lay it out.
struct PlannedTensor {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t nbytes = 0;
  std::string file;    // output file name (relative to the output folder)
  uint64_t offset = 0;  // byte offset of the data in that file (if the format has one)
};

struct WritePlan {
  std::vector<std::string> files;  // every file that will be written, in order
  std::vector<PlannedTensor> tensors;
  uint64_t payload_bytes = 0;      // sum of tensor bytes
  uint64_t output_bytes = 0;       // sum of file sizes (headers included)
  uint64_t peak_memory_bytes = 0;  // predicted peak of buffers the writer allocates
};

// Per tensor cast statistics gathered while writing.
struct WriteReport {
  std::map<std::string, CastStats> cast_stats;  // only tensors with nonzero counts
  uint64_t bytes_written = 0;
};

class Format {
 public:
  virtual ~Format() = default;
  virtual std::string name() const = 0;  // "safetensors"
  // Content detection: the first bytes of a file (up to 4 KiB) and its path.
  virtual bool sniff(const fs::path& path, std::span<const std::byte> head) const = 0;
  // Output selection by name: "x.safetensors", a directory, ...
  virtual bool claims_output(const fs::path& out) const = 0;
  virtual bool can_read() const { return true; }
  virtual bool can_write() const { return true; }

  virtual Checkpoint read(const fs::path& path, const ReadOptions& options) const = 0;
  // What `write` will produce, without touching the disk.
  virtual WritePlan plan(const Checkpoint& ckpt, const fs::path& out,
                         const WriteOptions& options) const = 0;
  // Writes every file of plan() under temporary names and renames them into
  // place at the end; on any error nothing is left at the destination.
  virtual WriteReport write(const Checkpoint& ckpt, const fs::path& out,
                            const WriteOptions& options) const = 0;
};

// The registry.
const std::vector<const Format*>& all_formats();
const Format* find_format(const std::string& name);
// Detects the format of an input path (a file, or a folder holding a checkpoint).
const Format& detect_input_format(const fs::path& path);
// Picks the output format from an explicit name or the output path.
const Format& choose_output_format(const fs::path& out, const std::string& explicit_name);

}  // namespace supra
