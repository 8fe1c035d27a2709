#pragma once
// A checkpoint independent of files: ordered tensor sources + string metadata.
#include <map>
#include <string>
#include <vector>

#include "schema/tensor_source.hpp"

namespace supra {

struct Checkpoint {
  std::string format;              // the reader that produced it ("safetensors")
  std::vector<std::string> files;  // the files it was read from
  std::vector<TensorPtr> tensors;  // in file order
  std::map<std::string, std::string> metadata;

  const TensorSource* find(const std::string& name) const;
  uint64_t total_bytes() const;
  uint64_t total_params() const;
};

}  // namespace supra
