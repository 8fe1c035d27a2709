#pragma once
// The glue between `supra convert` and the re-layout plan: find the model's
// config next to the input, pick the source convention (from --from-layout or
// by tensor names) and the target one (--layout, or the layout an output
// format implies), re-lay the checkpoint out, and list the side files a
// folder output gets (its layout's config, tokenizer and generation files).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "converters/format.hpp"
#include "schema/checkpoint.hpp"
#include "schema/model_spec.hpp"

namespace supra {

namespace fs = std::filesystem;

struct LayoutRequest {
  std::string to_layout;    // hf, meta, gguf, open_lm; none = keep names always; empty = as the output implies
  std::string from_layout;  // empty = detect from tensor names
  fs::path model_config;    // explicit config.json / params.json / open_lm config; empty = look next to the input
};

// The ModelSpec of an input: the explicit config, else config.json /
// params.json / open_lm_config.json in the input folder (or the input file's
// folder), else GGUF metadata carried by the checkpoint. Throws
// bad_input(layout.301) when none is found.
ModelSpec discover_model_spec(const Checkpoint& ckpt, const fs::path& input, const fs::path& explicit_config);

// The probe beside it (as nlohmann's accept() beside parse()): nullopt when
// there is no model config, or the one there names an architecture supra has
// no tables for. A config that is there but malformed still throws.
std::optional<ModelSpec> try_discover_model_spec(const Checkpoint& ckpt, const fs::path& input,
                                                 const fs::path& explicit_config);

struct LayoutResult {
  Checkpoint checkpoint;
  ModelSpec spec;
  std::string from_convention, to_convention;
};

// Re-lays `ckpt` out for `request.to_layout` (which must be non-empty). For
// the gguf layout, format_metadata["gguf"] gets the llama.cpp model KVs from
// the spec, the source's other GGUF KVs, and the tokenizer of the input folder.
LayoutResult apply_layout(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request);

// What `supra convert` calls. Re-lays `ckpt` out when asked (--layout), when
// the output format implies a layout the input is not in (a .gguf: llama.cpp
// names; then a model config is required), or, if the input is a model supra
// knows, when an input format's layout would otherwise leak into a format
// without one (a GGUF read into safetensors gets HF names; not when no spec
// can be built from its metadata, as for a LoRA adapter). nullopt when no
// re-layout applies, and always for --layout none.
std::optional<LayoutResult> relayout_for_output(const Checkpoint& ckpt, const fs::path& input, const Format& reader,
                                                const Format& writer, const LayoutRequest& request);

struct SideFile {
  std::string name;  // relative to the output folder
  std::string text;
};

// The files a folder output carries beside its weights `written` (already
// re-laid out and cast), read from the input folder:
//   - re-laid out: the target layout's config (config.json, params.json,
//     open_lm_config.json); the input's own when it was in that layout
//     already, else made from the spec;
//   - names kept: every model config the input folder has;
//   - always: the tokenizer and generation files of an input folder.
// A config.json's torch_dtype says the dtype of most of the written weights.
std::vector<SideFile> folder_side_files(const Checkpoint& written, const LayoutResult* relaid, const fs::path& input);

// The floating-point dtype holding most of `ckpt`'s bytes as torch names it
// ("bfloat16"); empty when no tensor is floating point.
std::string dominant_torch_dtype(const Checkpoint& ckpt);

}  // namespace supra
