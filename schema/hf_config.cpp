// HF config.json <-> ModelSpec, through the "hf_config" section of the
// architecture tables: which key holds which spec field, with which default,
// for which model_type. No architecture is named in this file.
#include <algorithm>

#include "schema/error.hpp"
#include "schema/model_spec.hpp"
#include "schema/spec_fields.hpp"
#include "schema/supra_config.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

// The value at `path` ("rope_parameters/rope_theta") in `c`; nullptr when absent.
const json* find_key(const json& c, const std::string& path) {
  const json* at = &c;
  for (size_t start = 0;;) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &at->at(part);
    if (slash == std::string::npos) return at;
    start = slash + 1;
  }
}

enum class Found { Absent, Null, Value };
struct Lookup {
  Found found = Found::Absent;
  const json* value = nullptr;
  std::string key;
};

// The first key with a value wins; a null counts only when no key has one.
Lookup look_up(const json& c, const HfConfigField& f, const std::string& source) {
  if (!f.only_if.empty()) {
    const json* flag = find_key(c, f.only_if);
    if (flag && !flag->is_null() && !flag->is_boolean())
      throw bad_input("spec.101", {source, {}, {}}, "'" + f.only_if + "' must be true or false");
    if (!flag || flag->is_null() || !flag->get<bool>()) return {Found::Null, nullptr, f.keys.front()};
  }
  Lookup out;
  for (const auto& k : f.keys) {
    const json* v = find_key(c, k);
    if (!v) continue;
    if (!v->is_null()) return {Found::Value, v, k};
    if (out.found == Found::Absent) out = {Found::Null, nullptr, k};
  }
  return out;
}

// A config string ("gelu_new") -> the kind name the spec takes ("gelu_tanh").
json kind_of(const HfConfigField& f, const json& v, const std::string& key, const std::string& model_type,
             const std::string& source) {
  std::string known;
  for (const auto& [name, kind] : f.values) {
    if (v.is_string() && v.get<std::string>() == name) return kind;
    known += (known.empty() ? "" : ", ") + name;
  }
  throw bad_input("spec.105", {source, {}, {}},
                  "'" + key + "' = " + v.dump() + " is not supported for model_type '" + model_type + "' (supported: " +
                      known + ")");
}

void read_fields(const json& c, const Architecture& arch, const HfModelType& type, ModelSpec& s,
                 const std::string& source) {
  // Derived defaults ("hidden / heads") are evaluated once every other field is read.
  std::vector<std::pair<const HfConfigField*, std::string>> derived;
  for (const HfConfigField& f : type.fields) {
    const Lookup l = look_up(c, f, source);
    if (l.found == Found::Value) {
      set_spec_field(s, f.field, f.values.empty() ? *l.value : kind_of(f, *l.value, l.key, type.model_type, source),
                     l.key, source);
      continue;
    }
    const std::optional<json>& fallback = l.found == Found::Null && f.null_value ? f.null_value : f.absent_value;
    if (fallback && fallback->is_string() && spec_field_type(f.field) == SpecFieldType::Count)
      derived.emplace_back(&f, fallback->get<std::string>());
    else if (fallback)
      set_spec_field(s, f.field, *fallback, f.field, source);
    else if (!arch.forward.count(f.field) && spec_field_type(f.field) != SpecFieldType::RopeScaling)
      throw bad_input("spec.101", {source, {}, {}}, "missing '" + f.keys.front() + "'");
  }
  for (const auto& [f, expr] : derived) set_spec_field(s, f->field, evaluate_count_expression(expr, s), f->field, source);
}

const HfModelType& model_type_for(const Architecture& arch, const std::string& model_type) {
  if (arch.hf_model_types.empty())
    throw bad_input("spec.106", {}, "architecture '" + arch.name + "' has no HF config mapping");
  if (model_type.empty()) return arch.hf_model_types.front();
  if (const HfModelType* t = arch.hf_model_type(model_type)) return *t;
  throw bad_input("spec.106", {}, "architecture '" + arch.name + "' has no HF model_type '" + model_type + "'");
}

// A field the config does not write must be what a reader of that config
// would reconstruct, or the written config describes another model.
void check_expressible(const ModelSpec& s, const Architecture& arch, const HfModelType& type) {
  for (const auto& name : spec_field_names()) {
    const HfConfigField* f = type.find(name);
    if (f && !f->keys.empty()) continue;
    json implied;
    if (f && f->absent_value)
      implied = f->absent_value->is_string() ? json(evaluate_count_expression(f->absent_value->get<std::string>(), s))
                                             : *f->absent_value;
    else if (auto it = arch.forward.find(name); it != arch.forward.end())
      implied = it->second;
    else
      implied = get_spec_field(ModelSpec{}, name);
    const json actual = get_spec_field(s, name);
    if (actual != implied)
      throw bad_input("spec.106", {}, "an HF '" + type.model_type + "' config cannot state " + name + " = " +
                                          actual.dump() + " (it implies " + implied.dump() + ")");
  }
}

// The value field `f` writes, in the config's terms.
json config_value(const ModelSpec& s, const HfConfigField& f, const std::string& model_type) {
  json v = get_spec_field(s, f.field);
  if (!f.values.empty()) {
    const auto it = std::find_if(f.values.begin(), f.values.end(), [&](const auto& p) { return p.second == v; });
    if (it == f.values.end())
      throw bad_input("spec.106", {}, "an HF '" + model_type + "' config cannot state " + f.field + " = " + v.dump());
    return it->first;
  }
  if (f.null_value && !f.null_value->is_string() && v == *f.null_value) return nullptr;
  return v;
}

void put(nlohmann::ordered_json& j, const std::string& key, const json& v, const std::string& model_type) {
  // Compared as one type: clang finds == between ordered_json and json
  // ambiguous in C++20.
  if (j.contains(key) && j[key] != nlohmann::ordered_json(v))
    throw bad_input("spec.106", {}, "an HF '" + model_type + "' config has one '" + key + "' for two different values (" +
                                        j[key].dump() + ", " + v.dump() + ")");
  j[key] = v;
}

}  // namespace

ModelSpec spec_from_hf_config(const json& c, const std::string& source) {
  if (!c.is_object()) throw bad_input("spec.101", {source, {}, {}}, "model config is not a JSON object");
  const json* type_value = find_key(c, "model_type");
  if (type_value && !type_value->is_null() && !type_value->is_string())
    throw bad_input("spec.101", {source, {}, {}}, "'model_type' must be a string");
  const std::string model_type = type_value && type_value->is_string() ? type_value->get<std::string>() : "";
  const Architecture* arch = architecture_for_model_type(model_type);
  if (!arch || arch->hf_model_types.empty())
    throw bad_input("spec.103", {source, {}, {}}, "model_type '" + model_type + "' has no architecture table");
  const HfModelType* type = arch->hf_model_type(model_type);
  if (!type) type = &arch->hf_model_types.front();
  for (const auto& [key, value] : arch->hf_refuse_if)
    if (const json* v = find_key(c, key); v && *v == value)
      throw bad_input("spec.105", {source, {}, {}}, "'" + key + "' = " + v->dump() + " is not supported");
  ModelSpec s = spec_with_forward_facts(arch->name);
  s.hf_model_type = model_type;
  read_fields(c, *arch, *type, s, source);
  // The SUPRA fields of the authors' openlm wrapper are no ModelSpec fields a table can map.
  if (s.architecture == "supra") read_supra_config(c, SupraConfigDialect::HfOpenlm, s, source);
  s.check(source);
  return s;
}

nlohmann::ordered_json hf_config_from_spec(const ModelSpec& s, const std::string& torch_dtype) {
  const Architecture& arch = find_architecture(s.architecture);
  const HfModelType& type = model_type_for(arch, s.hf_model_type);
  check_expressible(s, arch, type);
  nlohmann::ordered_json j;
  j["architectures"] = {type.class_name};
  j["model_type"] = type.model_type;
  for (const HfConfigField& f : type.fields) {
    if (f.keys.empty()) continue;
    const json v = config_value(s, f, type.model_type);
    // 0 = unknown (a GGUF without a context length): leave the key to its default.
    if (v.is_number_unsigned() && v.get<uint64_t>() == 0 && f.absent_value) continue;
    if (!f.only_if.empty()) put(j, f.only_if, !v.is_null(), type.model_type);
    put(j, f.keys.front(), v, type.model_type);
  }
  if (s.supra) write_supra_config(j, SupraConfigDialect::HfOpenlm, s);
  if (!torch_dtype.empty()) j["torch_dtype"] = torch_dtype;
  return j;
}

}  // namespace supra
