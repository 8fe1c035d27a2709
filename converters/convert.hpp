#pragma once
// The convert job as a library call: read, select, cast, write. The CLI only
// parses flags into ConvertOptions and prints the result.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "converters/format.hpp"
#include "converters/layout/layout_pipeline.hpp"

namespace supra {

struct ConvertOptions {
  std::optional<DType> dtype;  // cast floating-point tensors to this type
  std::string only_regex;      // keep only tensors whose name matches (ECMAScript, whole name search)
  std::string exclude_regex;   // drop tensors whose name matches
  std::string output_format;   // explicit output format name; empty = from the output path
  ReadOptions read;
  WriteOptions write;
  bool dry_run = false;
  LayoutRequest layout;  // --layout / --from-layout / --model-config (converters/layout)
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
};

// Applies --only/--exclude and --dtype to a checkpoint (no I/O).
Checkpoint select_and_cast(const Checkpoint& in, const ConvertOptions& options);

ConvertResult convert_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                                 const ConvertOptions& options);

}  // namespace supra
