#include "schema/architecture_sections.hpp"

#include <algorithm>
#include <set>

#include "schema/model_spec.hpp"
#include "schema/spec_fields.hpp"
#include "schema/strict_json.hpp"

namespace supra {
namespace {

using json = nlohmann::json;
using strict_json::child_path;
using strict_json::fail;
using strict_json::StrictObject;

// A value for `field` as a table writes it: tried on a scratch spec so the
// table is checked by the very code that applies it.
void check_value(const std::string& field, const json& v, const std::string& source, const std::string& path) {
  if (spec_field_type(field) == SpecFieldType::Count && v.is_string()) {
    if (auto problem = count_expression_problem(v.get<std::string>())) fail("schema.305", source, path, *problem);
    return;
  }
  if (spec_field_type(field) == SpecFieldType::RopeScaling)
    fail("schema.305", source, path, "rope_scaling takes no default (an absent or null rope_scaling is none)");
  try {
    ModelSpec scratch;
    set_spec_field(scratch, field, v, field, source);
  } catch (const Error& e) {
    fail("schema.305", source, path, e.detail());
  }
}

std::vector<std::string> config_keys(const json& v, const std::string& source, const std::string& path) {
  std::vector<std::string> keys = strict_json::strings_at(v, source, path, true);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    if (k.front() == '/' || k.back() == '/' || k.find("//") != std::string::npos || (i == 0 && k.find('/') != std::string::npos))
      fail("schema.305", source, child_path(path, i),
           "'" + k + "': keys are 'name' or 'object/name', and the first (the one written) is a plain name");
  }
  return keys;
}

// "values": {"gelu_tanh": ["gelu_new", "gelu_pytorch_tanh"], "gelu": "gelu"}.
std::vector<std::pair<std::string, std::string>> enum_values(const StrictObject& o, SpecFieldType type,
                                                             const std::string& path) {
  const json& v = o.get("values");
  if (!v.is_object() || v.empty()) fail("schema.304", o.source(), path, "expected an object kind -> config strings");
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  const auto& kinds = spec_kind_names(type);
  for (const auto& [kind, names] : v.items()) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
      fail("schema.305", o.source(), child_path(path, kind), "'" + kind + "' is not a value of this field");
    for (const auto& name : strict_json::strings_at(names, o.source(), child_path(path, kind), true)) {
      if (!seen.insert(name).second) fail("schema.306", o.source(), child_path(path, kind), "'" + name + "' listed twice");
      out.emplace_back(name, kind);
    }
  }
  return out;
}

HfConfigField parse_field(const std::string& field, const json& j, const std::string& source, const std::string& path) {
  const std::optional<SpecFieldType> type = spec_field_type(field);
  if (!type) fail("schema.302", source, path, "unknown key '" + field + "': not a ModelSpec field");
  HfConfigField f;
  f.field = field;
  if (j.is_string() || j.is_array()) {
    f.keys = config_keys(j, source, path);
  } else {
    StrictObject o(j, source, path, {"key", "default", "null", "only_if", "values"});
    if (o.has("key")) f.keys = config_keys(o.get("key"), source, o.path("key"));
    if (o.has("default")) {
      check_value(field, o.get("default"), source, o.path("default"));
      f.absent_value = o.get("default");
    }
    if (o.has("null")) {
      check_value(field, o.get("null"), source, o.path("null"));
      f.null_value = o.get("null");
    }
    f.only_if = o.string_or("only_if", "");
    if (o.has("values")) {
      if (!is_enum_type(*type)) fail("schema.305", source, o.path("values"), "only enum fields take \"values\"");
      f.values = enum_values(o, *type, o.path("values"));
    }
    if (f.keys.empty() && !f.absent_value) fail("schema.303", source, path, "needs a \"key\" or a \"default\"");
    if (f.keys.empty() && (o.has("null") || o.has("only_if") || o.has("values")))
      fail("schema.305", source, path, "\"null\", \"only_if\" and \"values\" need a \"key\"");
  }
  if (is_enum_type(*type) && !f.keys.empty() && f.values.empty())
    fail("schema.303", source, path, "an enum field read from a config needs \"values\"");
  return f;
}

std::map<std::string, HfConfigField> parse_fields(const json& j, const std::string& source, const std::string& path) {
  if (!j.is_object()) fail("schema.304", source, path, "expected an object ModelSpec field -> config key");
  std::map<std::string, HfConfigField> out;
  for (const auto& [field, spec] : j.items()) out[field] = parse_field(field, spec, source, child_path(path, field));
  return out;
}

bool is_expression(const std::optional<json>& v) { return v && v->is_string(); }

// Derived defaults are evaluated after every other field, so they may only
// name fields that are not derived themselves.
void check_derivations(const HfModelType& t, const std::string& source, const std::string& path) {
  for (const auto& f : t.fields)
    for (const auto* v : {&f.absent_value, &f.null_value})
      if (is_expression(*v))
        for (const auto& ref : count_expression_fields((*v)->get<std::string>())) {
          const HfConfigField* r = t.find(ref);
          if (r && (is_expression(r->absent_value) || is_expression(r->null_value)))
            fail("schema.305", source, path,
                 "'" + f.field + "' derives from '" + ref + "', which is derived itself (model_type " + t.model_type + ")");
        }
}

HfModelType parse_model_type(const json& j, const std::map<std::string, HfConfigField>& base, const std::string& source,
                             const std::string& path) {
  StrictObject o(j, source, path, {"model_type", "class", "fields"});
  HfModelType t;
  t.model_type = o.string("model_type");
  t.class_name = o.string("class");
  std::map<std::string, HfConfigField> fields = base;
  if (o.has("fields")) {
    const json& over = o.get("fields");
    if (!over.is_object()) fail("schema.304", source, o.path("fields"), "expected an object ModelSpec field -> config key");
    for (const auto& [field, spec] : over.items()) {
      if (spec.is_null()) {
        if (!fields.erase(field)) fail("schema.305", source, child_path(o.path("fields"), field), "nothing to remove");
      } else {
        fields[field] = parse_field(field, spec, source, child_path(o.path("fields"), field));
      }
    }
  }
  for (const auto& name : spec_field_names())
    if (auto it = fields.find(name); it != fields.end()) t.fields.push_back(it->second);
  check_derivations(t, source, path);
  return t;
}

}  // namespace

const HfConfigField* HfModelType::find(const std::string& field) const {
  for (const auto& f : fields)
    if (f.field == field) return &f;
  return nullptr;
}

void parse_forward_section(const json& j, const std::string& source, const std::string& path, Architecture& a) {
  std::set<std::string> allowed;
  for (const auto& name : spec_field_names())
    if (spec_field_type(name) != SpecFieldType::Count && spec_field_type(name) != SpecFieldType::RopeScaling)
      allowed.insert(name);
  StrictObject o(j, source, path, allowed);
  for (const char* required : {"norm", "ffn_kind", "positions"}) o.get(required);
  for (const auto& [field, value] : j.items()) {
    check_value(field, value, source, o.path(field));
    a.forward[field] = value;
  }
}

void parse_hf_config_section(const json& j, const std::string& source, const std::string& path, Architecture& a) {
  StrictObject o(j, source, path, {"description", "model_types", "fields", "refuse_if"});
  const std::map<std::string, HfConfigField> base = parse_fields(o.get("fields"), source, o.path("fields"));
  const json& types = o.get("model_types");
  if (!types.is_array() || types.empty()) fail("schema.304", source, o.path("model_types"), "expected a non-empty array");
  std::set<std::string> seen;
  for (size_t i = 0; i < types.size(); ++i) {
    a.hf_model_types.push_back(parse_model_type(types[i], base, source, child_path(o.path("model_types"), i)));
    if (!seen.insert(a.hf_model_types.back().model_type).second)
      fail("schema.306", source, child_path(o.path("model_types"), i), "model_type listed twice");
  }
  if (o.has("refuse_if")) {
    const json& r = o.get("refuse_if");
    if (!r.is_object()) fail("schema.304", source, o.path("refuse_if"), "expected an object config key -> value");
    for (const auto& [key, value] : r.items()) a.hf_refuse_if[key] = value;
  }
  if (o.has("description")) o.string("description");
}

}  // namespace supra
