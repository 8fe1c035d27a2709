#include "schema/naming_table.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "schema/architecture_sections.hpp"
#include "schema/embedded_tables.hpp"
#include "schema/error.hpp"
#include "schema/strict_json.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

using strict_json::child_path;
using strict_json::fail;
using strict_json::StrictObject;

// feature_q / feature_k: widths of SUPRA's q and k feature MLPs (heads resp. kv heads * qk_dim).
const std::set<std::string> kShapeSymbols = {"hidden", "q_dim", "kv_dim", "ffn", "vocab", "context", "head_dim_half",
                                             "feature_q", "feature_k"};

// A template may hold "{bid}" at most once and no other braces.
void check_template(const std::string& t, const std::string& source, const std::string& path) {
  const size_t at = t.find("{bid}");
  std::string rest = t;
  if (at != std::string::npos) rest.erase(at, 5);
  if (rest.find_first_of("{}") != std::string::npos)
    fail("schema.305", source, path, "name template '" + t + "' may only use the placeholder {bid}, once");
}

ArchitectureTensor parse_arch_tensor(const json& j, const std::string& source, const std::string& path,
                                     bool per_layer) {
  StrictObject o(j, source, path, {"tensor", "shape", "optional", "tied_to", "rope"});
  ArchitectureTensor t;
  t.id = o.string("tensor");
  t.per_layer = per_layer;
  t.optional = o.boolean_or("optional", false);
  t.tied_to = o.string_or("tied_to", "");
  const std::string rope = o.string_or("rope", "none");
  if (rope == "q") t.rope = RopeRole::Q;
  else if (rope == "k") t.rope = RopeRole::K;
  else if (rope != "none") fail("schema.305", source, o.path("rope"), "rope must be \"q\", \"k\" or \"none\"");
  t.shape = o.strings("shape", true);
  for (size_t i = 0; i < t.shape.size(); ++i)
    if (!kShapeSymbols.count(t.shape[i]))
      fail("schema.305", source, child_path(o.path("shape"), i), "unknown shape symbol '" + t.shape[i] + "'");
  return t;
}

ConventionEntry parse_entry(const std::string& id, const json& j, const std::string& source, const std::string& path) {
  ConventionEntry e;
  e.id = id;
  if (j.is_string()) {
    e.name = j.get<std::string>();
    if (e.name.empty()) fail("schema.305", source, path, "empty name");
  } else {
    StrictObject o(j, source, path,
                   {"name", "aliases", "fuses", "fusion", "transposed", "omit_when_tied", "shard_dim",
                    "shard_dim_when_full_width"});
    e.name = o.string("name");
    e.aliases = o.strings("aliases", false);
    for (size_t i = 0; i < e.aliases.size(); ++i) check_template(e.aliases[i], source, child_path(o.path("aliases"), i));
    e.fuses = o.strings("fuses", false);
    const std::string fusion = o.string_or("fusion", e.fuses.empty() ? "none" : "");
    if (fusion == "concat") e.fusion = Fusion::Concat;
    else if (fusion == "interleave_heads") e.fusion = Fusion::InterleaveHeads;
    else if (fusion != "none" || !e.fuses.empty())
      fail("schema.305", source, o.path(o.has("fusion") ? "fusion" : "fuses"),
           "a fused entry needs \"fusion\": \"concat\" or \"interleave_heads\" and at least two ids in \"fuses\"");
    if (e.fusion != Fusion::None && e.fuses.size() < 2)
      fail("schema.305", source, o.path("fuses"), "a fused entry needs at least two ids");
    if (e.fusion == Fusion::InterleaveHeads && e.fuses.size() != 3)
      fail("schema.305", source, o.path("fuses"), "interleave_heads fuses exactly q, k, v");
    e.transposed = o.boolean_or("transposed", false);
    e.omit_when_tied = o.boolean_or("omit_when_tied", false);
    e.shard_dim = o.small_int("shard_dim");
    e.shard_dim_when_full_width = o.small_int("shard_dim_when_full_width");
    if (e.shard_dim_when_full_width && !e.shard_dim)
      fail("schema.305", source, o.path("shard_dim_when_full_width"), "needs shard_dim");
  }
  if (!j.is_string() && !j.is_object()) fail("schema.304", source, path, "expected a name or an object");
  check_template(e.name, source, j.is_string() ? path : child_path(path, "name"));
  return e;
}

}  // namespace

const ArchitectureTensor* Architecture::find(const std::string& id) const {
  for (const auto& t : tensors)
    if (t.id == id) return &t;
  return nullptr;
}

const HfModelType* Architecture::hf_model_type(const std::string& model_type) const {
  for (const auto& t : hf_model_types)
    if (t.model_type == model_type) return &t;
  return nullptr;
}

const ConventionEntry* Convention::find(const std::string& id) const {
  for (const auto& e : entries)
    if (e.id == id) return &e;
  return nullptr;
}

Architecture parse_architecture(const json& j, const std::string& source) {
  StrictObject o(j, source, "",
                 {"architecture", "description", "gguf_architecture", "forward", "hf_config", "global", "layer"});
  Architecture a;
  a.name = o.string("architecture");
  a.description = o.string_or("description", "");
  a.gguf_architecture = o.string_or("gguf_architecture", "");
  for (const char* section : {"global", "layer"}) {
    const json& list = o.get(section);
    if (!list.is_array()) fail("schema.304", source, o.path(section), "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      a.tensors.push_back(parse_arch_tensor(list[i], source, child_path(o.path(section), i),
                                            std::string(section) == "layer"));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    if (!seen.insert(a.tensors[i].id).second)
      fail("schema.306", source, "", "tensor '" + a.tensors[i].id + "' listed twice");
  }
  for (const auto& t : a.tensors)
    if (!t.tied_to.empty() && !a.find(t.tied_to))
      fail("schema.307", source, "", "tensor '" + t.id + "' is tied_to unknown tensor '" + t.tied_to + "'");
  parse_forward_section(o.get("forward"), source, o.path("forward"), a);
  if (o.has("hf_config")) parse_hf_config_section(o.get("hf_config"), source, o.path("hf_config"), a);
  return a;
}

Convention parse_convention(const json& j, const std::string& source) {
  StrictObject o(j, source, "",
                 {"convention", "layout", "description", "architectures", "rope", "accept_prefixes", "ignore", "tensors"});
  Convention c;
  c.name = o.string("convention");
  c.layout = o.string("layout");
  c.description = o.string_or("description", "");
  c.architectures = o.strings("architectures", true);
  const std::string rope = o.string("rope");
  if (rope == "none") c.rope = RopeLayout::None;
  else if (rope == "rotate_half") c.rope = RopeLayout::RotateHalf;
  else if (rope == "interleaved") c.rope = RopeLayout::Interleaved;
  else if (rope == "from_spec") c.rope = RopeLayout::FromSpec;
  else fail("schema.305", source, o.path("rope"), "rope must be none, rotate_half, interleaved or from_spec");
  c.accept_prefixes = o.strings("accept_prefixes", false);
  c.ignore = o.strings("ignore", false);
  for (size_t i = 0; i < c.ignore.size(); ++i) check_template(c.ignore[i], source, child_path(o.path("ignore"), i));
  const json& tensors = o.get("tensors");
  if (!tensors.is_object() || tensors.empty())
    fail("schema.304", source, o.path("tensors"), "expected a non-empty object id -> name");
  std::set<std::string> names;
  for (const auto& [id, value] : tensors.items()) {
    c.entries.push_back(parse_entry(id, value, source, child_path(o.path("tensors"), id)));
    if (!names.insert(c.entries.back().name).second)
      fail("schema.306", source, child_path(o.path("tensors"), id), "name '" + c.entries.back().name + "' used twice");
  }
  // A fused part must not also have its own name: which one would win?
  for (const auto& e : c.entries)
    for (const auto& part : e.fuses)
      if (c.find(part))
        fail("schema.306", source, child_path(o.path("tensors"), e.id), "'" + part + "' is both fused here and named on its own");
  return c;
}

void check_convention_against(const Convention& c, const std::vector<const Architecture*>& archs,
                              const std::string& source) {
  // Every id must be a tensor of at least one listed architecture (a table for
  // llama and qwen2 names the biases only qwen2 requires), global or per layer
  // as its name template says.
  for (const auto& e : c.entries) {
    const std::vector<std::string> ids = e.fuses.empty() ? std::vector<std::string>{e.id} : e.fuses;
    for (const auto& id : ids) {
      const ArchitectureTensor* t = nullptr;
      for (const Architecture* a : archs)
        if (!t) t = a->find(id);
      if (!t) fail("schema.307", source, child_path("/tensors", e.id), "'" + id + "' is not a tensor of any listed architecture");
      if (t->per_layer != e.per_layer())
        fail("schema.305", source, child_path("/tensors", e.id),
             "'" + id + "' is " + (t->per_layer ? "per layer but the name has no {bid}" : "global but the name has {bid}"));
    }
  }
}

namespace {

struct Tables {
  std::vector<Architecture> architectures;
  std::vector<Convention> conventions;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables out;
    for (const EmbeddedFile& f : embedded_table_files()) {
      const std::string source(f.path);
      json j;
      try {
        j = json::parse(f.text);
      } catch (const json::parse_error& e) {
        throw bad_input("schema.301", {source, {}, {}}, std::string("not JSON: ") + e.what());
      }
      if (source.find("/architectures/") != std::string::npos) out.architectures.push_back(parse_architecture(j, source));
      else if (source.find("/conventions/") != std::string::npos) out.conventions.push_back(parse_convention(j, source));
      // schema/sru/*.json are read by schema/sru_tensor_table.cpp.
    }
    std::set<std::string> names;
    std::set<std::string> model_types, gguf_names;
    for (const auto& a : out.architectures) {
      if (!names.insert(a.name).second) throw bad_input("schema.308", {}, "two architectures named '" + a.name + "'");
      for (const auto& t : a.hf_model_types)
        if (!model_types.insert(t.model_type).second)
          throw bad_input("schema.308", {}, "HF model_type '" + t.model_type + "' is in two architectures");
      if (!a.gguf_architecture.empty() && !gguf_names.insert(a.gguf_architecture).second)
        throw bad_input("schema.308", {}, "GGUF architecture '" + a.gguf_architecture + "' is in two architectures");
    }
    for (const auto& c : out.conventions) {
      if (!names.insert(c.name).second) throw bad_input("schema.308", {}, "two tables named '" + c.name + "'");
      const std::string source = "schema/conventions/" + c.name + ".json";
      std::vector<const Architecture*> archs;
      for (size_t i = 0; i < c.architectures.size(); ++i) {
        for (const auto& x : out.architectures)
          if (x.name == c.architectures[i]) archs.push_back(&x);
        if (archs.size() != i + 1)
          throw bad_input("schema.307", {source, {}, {}}, "at /architectures/" + std::to_string(i) + ": unknown architecture '" + c.architectures[i] + "'");
      }
      check_convention_against(c, archs, source);
    }
    // One table per (layout, architecture): `--layout hf` must name exactly one.
    std::set<std::pair<std::string, std::string>> pairs;
    for (const auto& c : out.conventions)
      for (const auto& a : c.architectures)
        if (!pairs.insert({c.layout, a}).second)
          throw bad_input("schema.309", {"schema/conventions/" + c.name + ".json", {}, {}},
                          "a second '" + c.layout + "' table for architecture '" + a + "'");
    return out;
  }();
  return t;
}

}  // namespace

const std::vector<Architecture>& all_architectures() { return tables().architectures; }
const std::vector<Convention>& all_conventions() { return tables().conventions; }

const Architecture& find_architecture(const std::string& name) {
  for (const auto& a : all_architectures())
    if (a.name == name) return a;
  throw usage_error("usage.architecture", "unknown architecture '" + name + "'");
}

const Convention& find_convention(const std::string& name) {
  for (const auto& c : all_conventions())
    if (c.name == name) return c;
  throw usage_error("usage.convention", "unknown naming convention '" + name + "'");
}

const Convention& convention_for(const std::string& layout, const std::string& architecture) {
  std::string known;
  for (const auto& c : all_conventions()) {
    if (c.layout != layout) continue;
    if (std::find(c.architectures.begin(), c.architectures.end(), architecture) != c.architectures.end()) return c;
  }
  for (const auto& c : all_conventions())
    if (known.find(c.layout) == std::string::npos) known += (known.empty() ? "" : ", ") + c.layout;
  throw usage_error("usage.layout", "no '" + layout + "' layout for architecture '" + architecture +
                                        "' (layouts: " + known + ")");
}

const Architecture* architecture_for_model_type(const std::string& model_type) {
  for (const auto& a : all_architectures())
    if (a.name == model_type || a.hf_model_type(model_type)) return &a;
  return nullptr;
}

const Architecture* architecture_for_gguf(const std::string& gguf_name) {
  for (const auto& a : all_architectures())
    if (!a.gguf_architecture.empty() && a.gguf_architecture == gguf_name) return &a;
  return nullptr;
}

std::string NameResolver::expand(const std::string& name_template, std::optional<uint64_t> layer) {
  const size_t at = name_template.find("{bid}");
  if (at == std::string::npos || !layer) return name_template;
  return name_template.substr(0, at) + std::to_string(*layer) + name_template.substr(at + 5);
}

NameResolver::NameResolver(const Convention& c, uint64_t n_layers) : convention_(&c) {
  auto add = [&](const std::string& t, const ConventionEntry* e) {
    const bool per_layer = t.find("{bid}") != std::string::npos;
    for (uint64_t l = 0; l < (per_layer ? n_layers : 1); ++l)
      names_[expand(t, l)] = NameMatch{e, per_layer ? std::optional<uint64_t>(l) : std::nullopt};
  };
  for (const auto& t : c.ignore) add(t, nullptr);
  for (const auto& e : c.entries) {
    for (const auto& alias : e.aliases) add(alias, &e);
    add(e.name, &e);
  }
}

std::optional<NameMatch> NameResolver::resolve(const std::string& name) const {
  if (auto it = names_.find(name); it != names_.end()) return it->second;
  for (const auto& prefix : convention_->accept_prefixes)
    if (name.starts_with(prefix))
      if (auto it = names_.find(name.substr(prefix.size())); it != names_.end()) return it->second;
  return std::nullopt;
}

namespace {
// Does `name` fit `t` with any layer number in place of {bid}?
bool fits_template(const std::string& t, const std::string& name) {
  const size_t at = t.find("{bid}");
  if (at == std::string::npos) return t == name;
  const std::string head = t.substr(0, at), tail = t.substr(at + 5);
  if (name.size() <= head.size() + tail.size() || !name.starts_with(head) || !name.ends_with(tail)) return false;
  const std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
  return std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
         (digits == "0" || digits[0] != '0');
}
}  // namespace

size_t count_matching_names(const Convention& c, const std::vector<std::string>& names) {
  size_t n = 0;
  for (const auto& raw : names) {
    std::vector<std::string> candidates = {raw};
    for (const auto& p : c.accept_prefixes)
      if (raw.starts_with(p)) candidates.push_back(raw.substr(p.size()));
    bool hit = false;
    for (const auto& name : candidates) {
      for (const auto& e : c.entries) {
        hit = hit || fits_template(e.name, name);
        for (const auto& a : e.aliases) hit = hit || fits_template(a, name);
      }
    }
    n += hit;
  }
  return n;
}

}  // namespace supra
