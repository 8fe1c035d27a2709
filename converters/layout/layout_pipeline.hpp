#pragma once
// The glue between `supra convert` and the re-layout plan: find the model's
// config next to the input, pick the source convention (from --from-layout or
// by tensor names) and the target one (--layout, or gguf when writing .gguf),
// re-lay the checkpoint out, and list the side files a folder output gets
// (config.json from the spec, tokenizer files carried over).
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/model_spec.hpp"

namespace supra {

namespace fs = std::filesystem;

struct LayoutRequest {
  std::string to_layout;    // hf, meta, gguf, open_lm; empty = keep names
  std::string from_layout;  // empty = detect from tensor names
  fs::path model_config;    // explicit config.json / params.json / open_lm config; empty = look next to the input
};

// The ModelSpec of an input: the explicit config, else config.json /
// params.json / open_lm_config.json in the input folder (or the input file's
// folder), else GGUF metadata carried by the checkpoint. Throws
// bad_input(layout.301) when none is found.
ModelSpec discover_model_spec(const Checkpoint& ckpt, const fs::path& input, const fs::path& explicit_config);

struct LayoutResult {
  Checkpoint checkpoint;
  ModelSpec spec;
  std::string from_convention, to_convention;
};

// Re-lays `ckpt` out for `request.to_layout` (which must be non-empty). For
// the gguf layout, format_metadata["gguf"] gets the llama.cpp model KVs from
// the spec, the source's other GGUF KVs, and the tokenizer of the input folder.
LayoutResult apply_layout(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request);

// Extra files for a folder output (name, contents): config.json for the hf
// layout (the input's own when it was HF already), open_lm_config.json for
// open_lm, and the tokenizer files of an input folder.
// torch_dtype in a generated config.json is that of the first float tensor.
std::vector<std::pair<std::string, std::string>> layout_side_files(const LayoutResult& result, const fs::path& input);

// What `supra convert` calls: re-lays `ckpt` out when asked (request.to_layout)
// or implied (a .gguf output from a non-GGUF input: gguf; a GGUF input written
// to another format: hf). nullopt when no re-layout applies.
std::optional<LayoutResult> relayout_for_output(const Checkpoint& ckpt, const fs::path& input,
                                                const std::string& reader_format, const std::string& writer_format,
                                                const LayoutRequest& request);

// Writes side files into `folder` all-or-nothing (temporary names, renamed at the end).
void write_side_files(const fs::path& folder, const std::vector<std::pair<std::string, std::string>>& files, bool force);

}  // namespace supra
