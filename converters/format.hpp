#pragma once
// Every file format is one row of one table (format_registry.cpp): how it is
// recognised, read, planned and written, and what it implies for the tensors
// it holds. Callers decide by these capabilities, never by a format's name.
// Input formats are detected by content; output formats by the output name or
// an explicit --format.
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

class OutputTransaction;

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

struct Format {
  std::string name;  // "safetensors", as --format takes it

  // The naming layout every file of this format uses, "" when it holds any
  // names. A GGUF holds llama.cpp names plus the model's KVs: writing one
  // needs the model re-laid out (so its config), and one read into a format
  // without a layout of its own is re-laid out to Hugging Face names.
  std::string implied_layout = {};
  // 1-D float tensors (norms, biases) are written as F32: llama.cpp's CPU
  // kernels take such operands only as F32 ("binary_op: unsupported types").
  bool f32_vectors = false;
  // An output path without an extension, or an existing folder, is a folder
  // of files (Hugging Face style), which also gets the model's side files.
  bool writes_folders = false;

  // Content detection from the first bytes of a file (up to 4 KiB) and its path.
  bool (*sniff)(const fs::path& path, std::span<const std::byte> head) = nullptr;
  // Output selection by name ("x.safetensors", a folder); null: only by --format.
  bool (*claims_output)(const fs::path& out) = nullptr;
  Checkpoint (*read)(const fs::path& path, const ReadOptions& options) = nullptr;  // null: not read
  // What `write` will produce, without touching the disk. Null: not written.
  WritePlan (*plan)(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) = nullptr;
  // Writes every file of plan() into `tx`, whose folder is output_folder(out),
  // under temporary names: the caller commits them together with whatever
  // else its job writes, so on any error nothing is left at the destination.
  WriteReport (*write)(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                       OutputTransaction& tx) = nullptr;

  bool can_read() const { return read != nullptr; }
  bool can_write() const { return write != nullptr && plan != nullptr; }
  // Whether `out` names a folder of files rather than one file.
  bool is_folder_output(const fs::path& out) const;
  // The folder the files of output `out` go to: `out` itself, or its parent.
  fs::path output_folder(const fs::path& out) const;
};

// An output path that names a folder: no extension, or an existing folder.
bool names_a_folder(const fs::path& out);

// Writes `ckpt` to `out` in a transaction of its own, committed here: for a
// job that writes nothing besides this one checkpoint.
WriteReport write_checkpoint(const Format& format, const Checkpoint& ckpt, const fs::path& out,
                             const WriteOptions& options);

// The registry.
const std::vector<Format>& all_formats();
const Format* find_format(const std::string& name);
// Detects the format of an input path (a file, or a folder holding a checkpoint).
const Format& detect_input_format(const fs::path& path);
// Picks the output format from an explicit name or the output path.
const Format& choose_output_format(const fs::path& out, const std::string& explicit_name);

}  // namespace supra
