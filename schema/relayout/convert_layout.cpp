#include "schema/relayout/convert_layout.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "schema/relayout/layout_ops.hpp"
#include "schema/canonical_model.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

// A canonical tensor: architecture id + layer (none for globals).
using Key = std::pair<std::string, std::optional<uint64_t>>;

struct Canonical {
  TensorPtr tensor;
  std::string source_name;  // for messages
  bool tied_alias = false;  // synthesized from the tensor it is tied to
};

std::string key_string(const Key& k) {
  return k.second ? k.first + " (layer " + std::to_string(*k.second) + ")" : k.first;
}

// "a, b, c" with at most 50 names, then "and N more".
std::string list_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < 50; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 50) s += ", and " + std::to_string(names.size() - 50) + " more";
  return s;
}

std::string first_file(const Checkpoint& c) { return c.files.empty() ? std::string() : c.files[0]; }

RopeLayout effective_rope(const Convention& c, const ModelSpec& spec) {
  return c.rope == RopeLayout::FromSpec ? spec.rope_layout : c.rope;
}

bool covers(const Convention& c, const std::string& arch) {
  return std::find(c.architectures.begin(), c.architectures.end(), arch) != c.architectures.end();
}

uint64_t rows_of(const Architecture& arch, const std::string& id, const ModelSpec& spec) {
  const ArchitectureTensor* t = arch.find(id);
  return spec.symbol(t->shape.at(0));
}

// Splits one stored tensor into its canonical parts (undoing transpose and fusion).
void unpack(const ConventionEntry& e, std::optional<uint64_t> layer, TensorPtr stored, const Architecture& arch,
            const ModelSpec& spec, std::map<Key, Canonical>& out) {
  const std::string source_name = stored->name();
  TensorPtr t = stored;
  if (e.transposed) t = transpose2d(t, source_name);
  if (e.fuses.empty()) {
    out[{e.id, layer}] = Canonical{t, source_name, false};
    return;
  }
  std::vector<uint64_t> rows;
  uint64_t total = 0;
  for (const auto& part : e.fuses) total += rows.emplace_back(rows_of(arch, part, spec));
  if (t->info().shape.empty() || t->info().shape[0] != total)
    throw bad_input("layout.004", {{}, source_name, {}},
                    "fused tensor has shape " + t->info().shape_string() + " but its parts need " + std::to_string(total) +
                        " rows by the model config");
  if (e.fusion == Fusion::InterleaveHeads)
    t = permute_rows(t, heads_interleaved_to_grouped_rows(total, spec.heads, e.fuses.size()), source_name);
  uint64_t start = 0;
  for (size_t i = 0; i < e.fuses.size(); ++i) {
    out[{e.fuses[i], layer}] = Canonical{slice(t, 0, start, rows[i], source_name), source_name, false};
    start += rows[i];
  }
}

// Packs canonical parts into one stored tensor of the target convention.
TensorPtr pack(const ConventionEntry& e, const std::vector<TensorPtr>& parts, const std::string& name,
               const ModelSpec& spec) {
  TensorPtr t;
  if (parts.size() == 1) {
    t = parts[0];
  } else {
    t = concat(parts, 0, name);
    if (e.fusion == Fusion::InterleaveHeads)
      t = permute_rows(t, heads_grouped_to_interleaved_rows(t->info().shape[0], spec.heads, parts.size()), name);
  }
  if (e.transposed) return transpose2d(t, name);
  return t->name() == name ? t : renamed(t, name);
}

std::vector<uint64_t> expected_shape(const ArchitectureTensor& at, const ModelSpec& spec) {
  std::vector<uint64_t> shape;
  for (const auto& sym : at.shape) shape.push_back(spec.symbol(sym));
  return shape;
}

// Every canonical id an entry stores is a tensor of `arch` (a convention may
// cover several architectures: open_lm names SUPRA's tensors too).
bool entry_in_architecture(const ConventionEntry& e, const Architecture& arch) {
  for (const auto& id : e.fuses.empty() ? std::vector<std::string>{e.id} : e.fuses)
    if (!arch.find(id)) return false;
  return true;
}

std::string foreign_hint(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (n.find("._totrain_") != std::string::npos)
      return " (SUPRA tensors: the model config must say attn_name \"linear_attn\", with the SUPRA fields of the run)";
  return "";
}

// SUPRA's per-layer tensors follow ModelSpec::supra: a linear layer has q's
// feature MLP, k's too with grouped-query attention, qk-norm gains exactly
// when qk_norm; a softmax layer of a hybrid model has none of them.
void check_supra_layers(const std::map<Key, Canonical>& canon, const ModelSpec& spec, const Convention& from,
                        const std::string& file) {
  const SupraSpec& sp = *spec.supra;
  std::vector<std::string> missing, extra;
  auto file_name = [&](const std::string& id, uint64_t layer) {
    const ConventionEntry* e = from.find(id);
    return e ? NameResolver::expand(e->name, layer) : canonical_name(id, layer);
  };
  for (uint64_t l = 0; l < spec.layers; ++l) {
    const bool linear = sp.linear_layers[l];
    const bool own_k = spec.heads != spec.kv_heads;
    const std::pair<const char*, bool> wanted[] = {
        {"attn_feature_q.weight", linear},          {"attn_feature_q.bias", linear},
        {"attn_feature_k.weight", linear && own_k}, {"attn_feature_k.bias", linear && own_k},
        {"attn_feature_q_norm.weight", linear && sp.qk_norm}, {"attn_feature_k_norm.weight", linear && sp.qk_norm}};
    for (const auto& [id, want] : wanted) {
      auto it = canon.find({id, l});
      const bool stored = it != canon.end() && !it->second.tied_alias;
      if (want && !stored) missing.push_back(file_name(id, l));
      if (!want && stored) extra.push_back(it->second.source_name);
    }
  }
  if (!missing.empty())
    throw bad_input("layout.002", {file, missing[0], {}},
                    std::to_string(missing.size()) + " SUPRA tensor(s) the model config implies are missing: " +
                        list_names(missing));
  if (!extra.empty())
    throw bad_input("layout.010", {file, extra[0], {}},
                    std::to_string(extra.size()) + " SUPRA tensor(s) the model config does not account for (softmax "
                    "layer, qk_norm off or no grouped-query attention): " + list_names(extra));
}

TensorPtr apply_rope(TensorPtr t, RopeRole role, RopeLayout from, RopeLayout to, const ModelSpec& spec) {
  if (role == RopeRole::None || from == to || from == RopeLayout::None || to == RopeLayout::None) return t;
  const uint64_t heads = role == RopeRole::Q ? spec.heads : spec.kv_heads;
  if (from == RopeLayout::Interleaved && to == RopeLayout::RotateHalf)
    return permute_rope_pairs_to_halves(t, heads, t->name());
  return permute_rope_halves_to_pairs(t, heads, t->name());
}

// 1. Source names -> canonical tensors, refusing names the convention does
// not know, tensors of another architecture and tensors present twice.
std::map<Key, Canonical> to_canonical(const Checkpoint& in, const ModelSpec& spec, const Architecture& arch,
                                      const Convention& from, const std::string& file) {
  NameResolver resolver(from, spec.layers);
  std::map<Key, Canonical> canon;
  std::vector<std::string> unmatched, duplicates, foreign;
  std::map<std::pair<const ConventionEntry*, std::optional<uint64_t>>, std::string> seen;
  for (const auto& t : in.tensors) {
    const auto match = resolver.resolve(t->name());
    if (!match) {
      unmatched.push_back(t->name());
      continue;
    }
    if (!match->entry) continue;  // a buffer the convention lists under "ignore"
    if (!entry_in_architecture(*match->entry, arch)) {
      foreign.push_back(t->name());
      continue;
    }
    auto [it, fresh] = seen.emplace(std::pair{match->entry, match->layer}, t->name());
    if (!fresh) {
      duplicates.push_back(it->second + " / " + t->name());
      continue;
    }
    unpack(*match->entry, match->layer, t, arch, spec, canon);
  }
  if (!unmatched.empty())
    throw bad_input("layout.001", {file, unmatched[0], {}},
                    std::to_string(unmatched.size()) + " tensor(s) match no rule of convention '" + from.name +
                        "' for " + std::to_string(spec.layers) + " layers: " + list_names(unmatched) +
                        " (drop them with --exclude if they are not needed)");
  if (!foreign.empty())
    throw bad_input("layout.001", {file, foreign[0], {}},
                    std::to_string(foreign.size()) + " tensor(s) are not part of architecture '" + arch.name +
                        "': " + list_names(foreign) + foreign_hint(foreign));
  if (!duplicates.empty())
    throw bad_input("layout.003", {file, {}, {}}, "tensor(s) present under two names: " + list_names(duplicates));
  return canon;

}

// 2. Into rotate-half order, and check every shape against the spec.
void rotate_and_check_shapes(std::map<Key, Canonical>& canon, const ModelSpec& spec, const Architecture& arch,
                             const Convention& from, const std::string& file) {
  const RopeLayout source_rope = effective_rope(from, spec);
  std::vector<std::string> wrong_shapes;
  for (auto& [key, c] : canon) {
    const ArchitectureTensor* at = arch.find(key.first);
    c.tensor = apply_rope(c.tensor, at->rope, source_rope, RopeLayout::RotateHalf, spec);
    const std::vector<uint64_t> expected = expected_shape(*at, spec);
    if (c.tensor->info().shape != expected) {
      std::string want = "[";
      for (size_t i = 0; i < expected.size(); ++i) want += (i ? ", " : "") + std::to_string(expected[i]);
      wrong_shapes.push_back(c.source_name + " " + c.tensor->info().shape_string() + " (config says " + want + "])");
    }
  }
  if (!wrong_shapes.empty())
    throw bad_input("layout.005", {file, {}, {}}, "shape(s) do not match the model config: " + list_names(wrong_shapes));

}

// 3. Tied tensors, then everything required must be there.
void tie_and_check_complete(std::map<Key, Canonical>& canon, const ModelSpec& spec, const Architecture& arch,
                            const Convention& from, const std::string& file) {
  std::vector<std::string> missing;
  for (const auto& at : arch.tensors) {
    for (uint64_t l = 0; l < (at.per_layer ? spec.layers : 1); ++l) {
      const Key key{at.id, at.per_layer ? std::optional<uint64_t>(l) : std::nullopt};
      if (canon.count(key)) continue;
      if (!at.tied_to.empty()) {
        auto tied = canon.find({at.tied_to, key.second});
        // Tied only where the shapes agree: SUPRA's k feature MLP is q's without
        // grouped-query attention, and missing (not q's) with it.
        if (tied != canon.end() && tied->second.tensor->info().shape == expected_shape(at, spec)) {
          canon[key] = Canonical{tied->second.tensor, tied->second.source_name, true};
          continue;
        }
      }
      if (!at.optional) {
        const ConventionEntry* e = from.find(at.id);
        for (const auto& f : from.entries)
          if (std::find(f.fuses.begin(), f.fuses.end(), at.id) != f.fuses.end()) e = &f;
        missing.push_back(e ? NameResolver::expand(e->name, key.second) : key_string(key));
      }
    }
  }
  if (!missing.empty())
    throw bad_input("layout.002", {file, missing[0], {}},
                    std::to_string(missing.size()) + " required tensor(s) missing for '" + arch.name +
                        "': " + list_names(missing));
  if (spec.supra) check_supra_layers(canon, spec, from, file);

}

// 4. Canonical -> target, in architecture order (globals, then layer by layer).
Checkpoint from_canonical(const Checkpoint& in, const std::map<Key, Canonical>& canon, const ModelSpec& spec,
                          const Architecture& arch, const Convention& to, const std::string& file) {
  const RopeLayout target_rope = effective_rope(to, spec);
  auto entry_for = [&](const std::string& id) -> const ConventionEntry* {
    for (const auto& e : to.entries)
      if (e.id == id || std::find(e.fuses.begin(), e.fuses.end(), id) != e.fuses.end()) return &e;
    return nullptr;
  };
  Checkpoint out;
  out.format = in.format;
  out.files = in.files;
  out.metadata = in.metadata;
  out.format_metadata = in.format_metadata;
  std::vector<std::string> unnamed, incomplete;
  std::set<std::pair<const ConventionEntry*, std::optional<uint64_t>>> emitted;
  auto emit = [&](const ArchitectureTensor& at, std::optional<uint64_t> layer) {
    auto it = canon.find({at.id, layer});
    if (it == canon.end()) return;
    const ConventionEntry* e = entry_for(at.id);
    if (!e) {
      unnamed.push_back(it->second.source_name + " (" + at.id + ")");
      return;
    }
    if (!emitted.insert({e, layer}).second) return;  // a fused tensor already written with its first part
    if (it->second.tied_alias && e->omit_when_tied) return;
    const std::string name = NameResolver::expand(e->name, layer);
    std::vector<TensorPtr> parts;
    for (const auto& id : e->fuses.empty() ? std::vector<std::string>{e->id} : e->fuses) {
      auto p = canon.find({id, layer});
      if (p == canon.end()) {
        incomplete.push_back(name + " (no " + id + ")");
        return;
      }
      parts.push_back(apply_rope(p->second.tensor, arch.find(id)->rope, RopeLayout::RotateHalf, target_rope, spec));
    }
    out.tensors.push_back(pack(*e, parts, name, spec));
  };
  for (const auto& at : arch.tensors)
    if (!at.per_layer) emit(at, std::nullopt);
  for (uint64_t l = 0; l < spec.layers; ++l)
    for (const auto& at : arch.tensors)
      if (at.per_layer) emit(at, l);
  if (!unnamed.empty())
    throw bad_input("layout.006", {file, {}, {}},
                    "convention '" + to.name + "' has no name for: " + list_names(unnamed) +
                        " (drop them with --exclude if they are not needed)");
  if (!incomplete.empty())
    throw bad_input("layout.007", {file, {}, {}}, "fused tensor(s) with parts missing: " + list_names(incomplete));
  return out;
}

}  // namespace

Checkpoint convert_layout(const Checkpoint& in, const ModelSpec& spec, const Convention& from, const Convention& to) {
  const Architecture& arch = find_architecture(spec.architecture);
  for (const Convention* c : {&from, &to})
    if (!covers(*c, arch.name))
      throw bad_input("layout.008", {first_file(in), {}, {}},
                      "convention '" + c->name + "' does not cover architecture '" + arch.name + "'");
  const std::string file = first_file(in);
  std::map<Key, Canonical> canon = to_canonical(in, spec, arch, from, file);
  rotate_and_check_shapes(canon, spec, arch, from, file);
  tie_and_check_complete(canon, spec, arch, from, file);
  return from_canonical(in, canon, spec, arch, to, file);
}

const Convention* best_matching_convention(const Checkpoint& ckpt, const std::string& architecture) {
  std::vector<std::string> names;
  for (const auto& t : ckpt.tensors) names.push_back(t->name());
  // Names matched as written beat names matched after dropping an accepted
  // prefix: "model.tok_embeddings.weight" is HF openlm's, not open_lm's "model." + name.
  const Convention* best = nullptr;
  std::pair<size_t, size_t> best_count{0, 0};
  bool tie = false;
  for (const auto& c : all_conventions()) {
    if (!covers(c, architecture)) continue;
    Convention exact = c;
    exact.accept_prefixes.clear();
    const std::pair<size_t, size_t> n{count_matching_names(c, names), count_matching_names(exact, names)};
    if (n > best_count) {
      best = &c, best_count = n, tie = false;
    } else if (n == best_count && n.first > 0 && best && best->layout != c.layout) {
      tie = true;
    }
  }
  return tie ? nullptr : best;
}

const Convention& detect_convention(const Checkpoint& ckpt, const std::string& architecture) {
  const Convention* best = best_matching_convention(ckpt, architecture);
  if (!best)
    throw bad_input("layout.009", {first_file(ckpt), {}, {}},
                    "cannot tell the naming convention of these tensors for architecture '" + architecture +
                        "'; give --from-layout");
  return *best;
}

}  // namespace supra
