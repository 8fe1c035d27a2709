#pragma once
// Writes the data.pkl of a state dict the way torch.save does (protocol 2,
// CPython's pickler memo and batching rules, torch's persistent-id tuple
// ('storage', torch.<X>Storage, key, 'cpu', numel)), so the bytes match what
// torch.save writes for the same contiguous tensors.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schema/dtype.hpp"

namespace supra::pytorch {

struct PickledTensor {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  std::string storage_key;  // "0", "1", ...
};

// OrderedDict(name -> tensor), or {wrap_key: OrderedDict(...)} when wrap_key
// is not empty, or {"epoch": N, wrap_key: ...} when `epoch` is given too (a
// training checkpoint as open_lm's loader reads one). Throws pytorch.501 for
// dtypes PyTorch 1.13 has no storage for.
std::vector<std::byte> pickle_state_dict(const std::vector<PickledTensor>& tensors, const std::string& wrap_key,
                                         std::optional<uint64_t> epoch = std::nullopt);

}  // namespace supra::pytorch
