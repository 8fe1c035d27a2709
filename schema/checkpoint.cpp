#include "schema/checkpoint.hpp"

namespace supra {

const TensorSource* Checkpoint::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t->name() == name) return t.get();
  return nullptr;
}

uint64_t Checkpoint::total_bytes() const {
  uint64_t sum = 0;
  for (const auto& t : tensors) sum += t->info().nbytes();
  return sum;
}

uint64_t Checkpoint::total_params() const {
  uint64_t sum = 0;
  for (const auto& t : tensors) sum += t->info().numel();
  return sum;
}

}  // namespace supra
