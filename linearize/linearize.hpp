#pragma once
// `supra linearize` as a library call: open any checkpoint as a canonical
// model, plan the SUPRA layers, refuse what the target cannot express, add
// the new tensors as lazy sources, re-lay everything out in the target's
// naming and stream it to the writer (no tensor is held in memory whole).
//
// Unlike the pure parts (recipe, plan, init, target_warnings: schema only),
// this job reads and writes files, so it uses converters/ as validate/ does.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "converters/format.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "linearize/plan.hpp"
#include "linearize/target_warnings.hpp"
#include "schema/canonical_model.hpp"

namespace supra {

struct LinearizeOptions {
  LinearizeRecipe recipe;
  std::string keep_softmax;  // --keep-softmax (layers chosen against the source's layer count)
  LinearizeTarget target = LinearizeTarget::OpenLm;
  std::string format;   // hf target: the output format (default safetensors); open_lm: must be empty or pytorch
  LayoutRequest layout;  // the input's --model-config / --from-layout
  ReadOptions read;
  WriteOptions write;
  bool dry_run = false;
  std::function<void(const WritePlan&)> on_plan;  // called before anything is written
};

struct LinearizeResult {
  LinearizeTarget target = LinearizeTarget::OpenLm;
  LinearizePlan plan;
  std::vector<TargetNotice> warnings;
  std::string source_convention, target_convention, output_format;
  DType dtype = DType::F32;           // of the new tensors (the source's float dtype)
  WritePlan write_plan;               // every output file, side files included
  std::filesystem::path output;       // what other commands open: checkpoint.pt, the HF folder, or the file
  std::vector<std::string> new_tensor_names;  // in the target's naming, plan order
  uint64_t bytes_out = 0;
  double seconds = 0;
  std::string trainer_command;        // open_lm target: the uptraining command line
};

LinearizeResult linearize_checkpoint(const std::filesystem::path& in, const std::filesystem::path& outdir,
                                     const LinearizeOptions& options);

// The linearized model in canonical naming: the source's tensors plus the
// plan's new ones, made lazily in `dtype`.
Checkpoint linearized_canonical_checkpoint(const CanonicalModel& source, const LinearizePlan& plan, DType dtype);

// The README written beside the output (what it is, the trainer command).
std::string linearize_readme(const LinearizeResult& r, const std::filesystem::path& outdir);

}  // namespace supra
