#include "converters/relayout/meta_shards.hpp"

#include <set>

#include "schema/relayout/layout_ops.hpp"
#include "schema/error.hpp"
#include "schema/naming_table.hpp"

namespace supra {

Checkpoint merge_meta_shards(const std::vector<Checkpoint>& shards, const ModelSpec& spec) {
  if (shards.empty()) throw std::invalid_argument("merge_meta_shards: no shards");
  if (shards.size() == 1) return shards[0];
  const Convention& meta = find_convention("meta");
  const Architecture& arch = find_architecture(spec.architecture);
  const NameResolver resolver(meta, spec.layers);

  Checkpoint out;
  out.format = shards[0].format;
  out.metadata = shards[0].metadata;
  out.format_metadata = shards[0].format_metadata;
  for (const auto& s : shards) out.files.insert(out.files.end(), s.files.begin(), s.files.end());

  std::set<std::string> names0;
  for (const auto& t : shards[0].tensors) names0.insert(t->name());
  for (size_t i = 1; i < shards.size(); ++i) {
    std::set<std::string> names;
    for (const auto& t : shards[i].tensors) names.insert(t->name());
    if (names != names0) {
      std::string diff;
      for (const auto& n : names0)
        if (!names.count(n)) diff += (diff.empty() ? "" : ", ") + n + " (missing)";
      for (const auto& n : names)
        if (!names0.count(n)) diff += (diff.empty() ? "" : ", ") + n + " (extra)";
      throw bad_input("layout.201", {shards[i].files.empty() ? "" : shards[i].files[0], {}, {}},
                      "shard " + std::to_string(i) + " does not hold the same tensors as shard 0: " + diff);
    }
  }

  std::vector<std::string> unknown;
  for (const auto& t0 : shards[0].tensors) {
    const auto match = resolver.resolve(t0->name());
    if (!match) {
      unknown.push_back(t0->name());
      continue;
    }
    std::vector<TensorPtr> parts;
    for (const auto& s : shards)
      for (const auto& t : s.tensors)
        if (t->name() == t0->name()) parts.push_back(t);
    if (!match->entry || !match->entry->shard_dim) {  // replicated: every shard holds the whole tensor
      for (const auto& p : parts)
        if (p->info().shape != t0->info().shape)
          throw bad_input("layout.202", {{}, t0->name(), {}},
                          "replicated tensor has shapes " + t0->info().shape_string() + " and " + p->info().shape_string());
      out.tensors.push_back(t0);
      continue;
    }
    size_t dim = size_t(*match->entry->shard_dim);
    // Llama 3 splits the embedding on dim 0: its shards already have the full width.
    if (match->entry->shard_dim_when_full_width) {
      const ArchitectureTensor* at = arch.find(match->entry->id);
      if (at && dim < at->shape.size() && dim < t0->info().shape.size() &&
          t0->info().shape[dim] == spec.symbol(at->shape[dim]))
        dim = size_t(*match->entry->shard_dim_when_full_width);
    }
    try {
      out.tensors.push_back(concat(parts, dim, t0->name()));
    } catch (const Error& e) {
      throw bad_input("layout.202", {{}, t0->name(), {}}, "shards do not concatenate: " + e.detail());
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& n : unknown) list += (list.empty() ? "" : ", ") + n;
    throw bad_input("layout.203", {out.files.empty() ? "" : out.files[0], unknown[0], {}},
                    "the Meta table has no shard rule for: " + list);
  }
  return out;
}

}  // namespace supra
