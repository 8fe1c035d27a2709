#pragma once
// A pickle reader that builds data, never runs code. It accepts only the
// opcodes a saved state dict uses and only an allow-list of globals
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2/_v3,
// _rebuild_parameter, torch storage classes and dtypes, torch.Size, ...).
// Anything else is refused by name and byte offset (pytorch.2xx), before
// anything happens. Every count, memo index and stack access is checked.
#include <cstdint>
#include <span>
#include <string>

#include "converters/pytorch/pickle_objects.hpp"

namespace supra::pytorch {

struct UnpickleLimits {
  uint64_t max_objects = 20'000'000;
  size_t max_rank = 64;
  // Bytes the unpickled objects (and the stack, marks and memo) may take.
  // 0 = kBaseMemoryBudget + kMemoryPerPickleByte x the pickle's size: a real
  // state dict's objects take about 15x its pickle, a hostile one (memo
  // references, 1-byte opcodes) much more (pytorch.207).
  uint64_t memory_budget = 0;
};
inline constexpr uint64_t kBaseMemoryBudget = 256ull << 20;
inline constexpr uint64_t kMemoryPerPickleByte = 16;

// Unpickles one pickle starting at `start` of `bytes`. `file` and `what`
// ("data.pkl") name the stream in error messages.
PickleResult unpickle(std::span<const std::byte> bytes, uint64_t start, const std::string& file,
                      const std::string& what, const UnpickleLimits& limits = {});

}  // namespace supra::pytorch
