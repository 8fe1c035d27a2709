#pragma once
// Finds the tensors in an unpickled checkpoint: a plain state dict, or the
// dict under `state_dict` / `model` / ... of a training checkpoint, or the
// one under a key the user names. Nested dicts are flattened with dotted
// names; everything that is not a tensor is skipped and listed.
#include <string>
#include <vector>

#include "converters/pytorch/pickle_objects.hpp"

namespace supra::pytorch {

struct NamedTensor {
  std::string name;
  uint32_t tensor;  // index into PickleResult::tensors
};

struct FoundTensors {
  std::vector<NamedTensor> tensors;  // in dict order
  std::string key;                   // the key they were found under ("" = top level)
  std::vector<std::string> skipped;  // "epoch (int)", "optimizer (dict)", ...
};

// `key` empty = automatic. Throws pytorch.301 (key not found), 302 (no
// tensors), 303 (two tensors flatten to one name), 304 (nested too deep),
// 305 (names too long for the pickle: a memory bomb). A dict reached twice
// (shared, or holding itself) is read once and listed as skipped after.
FoundTensors find_state_dict(const PickleResult& pickle, const std::string& key, const std::string& file);

// Drops "module." / "_orig_mod." while every name starts with it (DDP, torch.compile).
void strip_common_module_prefix(std::vector<std::string>& names);

}  // namespace supra::pytorch
