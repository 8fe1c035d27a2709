#include "schema/canonical_model.hpp"

#include "schema/error.hpp"

namespace supra {

std::string canonical_name(const std::string& id, std::optional<uint64_t> layer) {
  return layer ? "layers." + std::to_string(*layer) + "." + id : id;
}

void CanonicalModel::index() {
  by_name_.clear();
  for (const auto& t : checkpoint.tensors) by_name_[t->name()] = t;
}

TensorPtr CanonicalModel::global(const std::string& id) const {
  auto it = by_name_.find(canonical_name(id, std::nullopt));
  return it == by_name_.end() ? nullptr : it->second;
}

TensorPtr CanonicalModel::layer(uint64_t l, const std::string& id) const {
  auto it = by_name_.find(canonical_name(id, l));
  return it == by_name_.end() ? nullptr : it->second;
}

TensorPtr CanonicalModel::require_global(const std::string& id) const {
  if (TensorPtr t = global(id)) return t;
  throw bad_input("model.missing", {checkpoint.files.empty() ? "" : checkpoint.files[0], id, {}},
                  "the model has no tensor '" + id + "'");
}

TensorPtr CanonicalModel::require_layer(uint64_t l, const std::string& id) const {
  if (TensorPtr t = layer(l, id)) return t;
  throw bad_input("model.missing", {checkpoint.files.empty() ? "" : checkpoint.files[0], canonical_name(id, l), {}},
                  "the model has no tensor '" + id + "' in layer " + std::to_string(l));
}

}  // namespace supra
