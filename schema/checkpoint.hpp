#pragma once
// A checkpoint independent of files: ordered tensor sources + string metadata.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema/tensor_source.hpp"

namespace supra {

// An entry of the file that is no tensor supra can represent (a string array,
// a compound table, a long double, ...): readers list it here instead of
// failing the whole file; convert warns (or errors with --strict), inspect
// lists it. `id` is the error --strict raises.
struct SkippedEntry {
  std::string name, type, why, id;
};

struct Checkpoint {
  std::string format;              // the reader that produced it ("safetensors")
  std::vector<std::string> files;  // the files it was read from
  std::vector<TensorPtr> tensors;  // in file order
  std::map<std::string, std::string> metadata;
  // What `inspect` shows besides `metadata` but no writer carries: e.g. a
  // one-line summary of each typed GGUF key (the typed values themselves are
  // in format_metadata).
  std::map<std::string, std::string> display_metadata;
  // Typed, format-specific metadata that a string map cannot hold without
  // loss, keyed by format: format_metadata["gguf"] holds GGUF key/values with
  // their types, so GGUF -> GGUF keeps them exactly. Writers of other formats
  // may ignore it.
  nlohmann::ordered_json format_metadata = nlohmann::ordered_json::object();
  std::vector<SkippedEntry> skipped;  // in file order

  const TensorSource* find(const std::string& name) const;
  uint64_t total_bytes() const;
  uint64_t total_params() const;
};

}  // namespace supra
