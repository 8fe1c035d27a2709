#pragma once
// The convert job as a library call: read, select, cast, write. The CLI only
// parses flags into ConvertOptions and prints the result.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "converters/format.hpp"
#include "converters/relayout/layout_pipeline.hpp"

namespace supra {

struct ConvertOptions {
  std::optional<DType> dtype;  // cast floating-point tensors to this type
  std::string only_regex;      // keep only tensors whose name matches (ECMAScript, whole name search)
  std::string exclude_regex;   // drop tensors whose name matches
  std::string output_format;   // explicit output format name; empty = from the output path
  ReadOptions read;
  WriteOptions write;
  bool dry_run = false;
  bool strict = false;   // an entry the reader skipped (Checkpoint::skipped) is an error
  LayoutRequest layout;  // --layout / --from-layout / --model-config (converters/relayout, schema/relayout)
  // Called with the plan before anything is written (e.g. to size a progress
  // bar): planning in a separate dry run opened the input twice, and opening
  // .pt/.npz reads every byte (CRC) and .zst decompresses the whole file.
  std::function<void(const WritePlan&)> on_plan;
};

struct ConvertResult {
  std::string input_format;
  std::string output_format;
  std::string from_convention, to_convention;  // set when tensors were re-laid out
  size_t tensors = 0;
  uint64_t bytes_in = 0;   // payload bytes of the selected source tensors
  uint64_t bytes_out = 0;  // bytes of all output files
  double seconds = 0;
  WritePlan plan;
  WriteReport report;
  std::vector<SkippedEntry> skipped;  // entries of the input left out (after --only/--exclude)
  // GGUF keys a non-GGUF output cannot carry (no string form: arrays, huge strings).
  std::vector<std::string> dropped_metadata;
};

// Applies --only/--exclude and --dtype to a checkpoint (no I/O). With
// `cast_vectors` false, --dtype leaves 1-D tensors alone (outputs whose
// format has f32_vectors: see widen_vectors_for_llama_cpp).
Checkpoint select_and_cast(const Checkpoint& in, const ConvertOptions& options, bool cast_vectors = true);

// llama.cpp's CPU kernels take 1-D operands (norm weights, biases) only as
// F32 ("binary_op: unsupported types" otherwise), and llama.cpp's own
// converter writes them so: 1-D float tensors become F32 (lossless, tiny).
void widen_vectors_for_llama_cpp(Checkpoint& ckpt);

// The whole job, all or nothing: the weights and a folder output's side files
// (layout_pipeline.hpp) are written in one OutputTransaction, committed once.
ConvertResult convert_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                                 const ConvertOptions& options);

}  // namespace supra
