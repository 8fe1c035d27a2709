#include "schema/spec_fields.hpp"

#include <cmath>
#include <sstream>
#include <type_traits>
#include <variant>

#include "schema/error.hpp"
#include "schema/model_spec.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxCount = uint64_t(1) << 40;  // far above any real model, far below overflow

// One entry per field; the member's type is the field's type.
using Member = std::variant<uint64_t ModelSpec::*, double ModelSpec::*, bool ModelSpec::*, NormKind ModelSpec::*,
                            FfnKind ModelSpec::*, PositionKind ModelSpec::*, RopeScaling ModelSpec::*>;
struct FieldDef {
  std::string name;
  Member member;
};

// In the order an HF config.json is written (the order transformers' own configs use, roughly).
const std::vector<FieldDef>& registry() {
  static const std::vector<FieldDef> r = {
      {"vocab", &ModelSpec::vocab},
      {"hidden", &ModelSpec::hidden},
      {"ffn", &ModelSpec::ffn},
      {"layers", &ModelSpec::layers},
      {"heads", &ModelSpec::heads},
      {"kv_heads", &ModelSpec::kv_heads},
      {"head_dim", &ModelSpec::head_dim},
      {"ffn_kind", &ModelSpec::ffn_kind},
      {"norm", &ModelSpec::norm},
      {"norm_eps", &ModelSpec::norm_eps},
      {"positions", &ModelSpec::positions},
      {"context_length", &ModelSpec::context_length},
      {"rope_theta", &ModelSpec::rope_theta},
      {"rotary_pct", &ModelSpec::rotary_pct},
      {"rope_scaling", &ModelSpec::rope_scaling},
      {"parallel_residual", &ModelSpec::parallel_residual},
      {"attn_qkv_bias", &ModelSpec::attn_qkv_bias},
      {"attn_out_bias", &ModelSpec::attn_out_bias},
      {"mlp_bias", &ModelSpec::mlp_bias},
      {"sliding_window", &ModelSpec::sliding_window},
      {"tied_embeddings", &ModelSpec::tied_embeddings},
  };
  return r;
}

const FieldDef* find_field(const std::string& name) {
  for (const auto& f : registry())
    if (f.name == name) return &f;
  return nullptr;
}

const FieldDef& field(const std::string& name) {
  if (const FieldDef* f = find_field(name)) return *f;
  throw std::invalid_argument("unknown ModelSpec field " + name);
}

Error type_error(const std::string& key, const std::string& source, const std::string& expected) {
  return bad_input("spec.101", {source, {}, {}}, "'" + key + "' must be " + expected);
}

template <class Enum>
Enum enum_from_json(const json& v, SpecFieldType type, const std::string& key, const std::string& source) {
  const auto& names = spec_kind_names(type);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (v.is_string() && v.get<std::string>() == names[i]) return Enum(i);
    list += (i ? ", " : "") + names[i];
  }
  throw type_error(key, source, "one of " + list);
}

// "4 * hidden" -> {"4", "*", "hidden"}.
std::vector<std::string> tokens(const std::string& expr) {
  std::string spaced;
  for (char c : expr) spaced += (c == '*' || c == '/') ? std::string(" ") + c + " " : std::string(1, c);
  std::istringstream in(spaced);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool is_number(const std::string& t) {
  return !t.empty() && t.size() < 10 && t.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::optional<SpecFieldType> spec_field_type(const std::string& name) {
  const FieldDef* f = find_field(name);
  if (!f) return std::nullopt;
  return SpecFieldType(f->member.index());
}

bool is_enum_type(SpecFieldType t) {
  return t == SpecFieldType::Norm || t == SpecFieldType::Ffn || t == SpecFieldType::Positions;
}

const std::vector<std::string>& spec_field_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : registry()) out.push_back(f.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& spec_kind_names(SpecFieldType type) {
  // Indexed by the enum's value (model_spec.hpp).
  static const std::vector<std::string> norm = {"rms_norm", "layer_norm"};
  static const std::vector<std::string> ffn = {"swiglu", "gelu", "gelu_tanh"};
  static const std::vector<std::string> positions = {"rope", "learned"};
  static const std::vector<std::string> none;
  switch (type) {
    case SpecFieldType::Norm: return norm;
    case SpecFieldType::Ffn: return ffn;
    case SpecFieldType::Positions: return positions;
    default: return none;
  }
}

uint64_t count_from_json(const json& v, const std::string& key, const std::string& source) {
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    const uint64_t n = v.get<uint64_t>();
    if (n > kMaxCount) throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' is implausibly large");
    return n;
  }
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() == std::floor(v.get<double>())) {
    if (v.get<double>() > double(kMaxCount))
      throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' is implausibly large");
    return uint64_t(v.get<double>());
  }
  throw type_error(key, source, "a non-negative integer");
}

double real_from_json(const json& v, const std::string& key, const std::string& source) {
  if (!v.is_number() || !std::isfinite(v.get<double>())) throw type_error(key, source, "a finite number");
  return v.get<double>();
}

void set_spec_field(ModelSpec& spec, const std::string& name, const json& value, const std::string& key,
                    const std::string& source) {
  std::visit(
      [&](auto member) {
        using T = std::remove_reference_t<decltype(spec.*member)>;
        if constexpr (std::is_same_v<T, uint64_t>) spec.*member = count_from_json(value, key, source);
        else if constexpr (std::is_same_v<T, double>) spec.*member = real_from_json(value, key, source);
        else if constexpr (std::is_same_v<T, bool>) {
          if (!value.is_boolean()) throw type_error(key, source, "true or false");
          spec.*member = value.get<bool>();
        } else if constexpr (std::is_same_v<T, NormKind>) spec.*member = enum_from_json<T>(value, SpecFieldType::Norm, key, source);
        else if constexpr (std::is_same_v<T, FfnKind>) spec.*member = enum_from_json<T>(value, SpecFieldType::Ffn, key, source);
        else if constexpr (std::is_same_v<T, PositionKind>)
          spec.*member = enum_from_json<T>(value, SpecFieldType::Positions, key, source);
        else spec.*member = rope_scaling_from_hf(value, key, source);
      },
      field(name).member);
}

json get_spec_field(const ModelSpec& spec, const std::string& name) {
  return std::visit(
      [&](auto member) -> json {
        using T = std::remove_cvref_t<decltype(spec.*member)>;
        if constexpr (std::is_same_v<T, NormKind>) return spec_kind_names(SpecFieldType::Norm)[size_t(spec.*member)];
        else if constexpr (std::is_same_v<T, FfnKind>) return spec_kind_names(SpecFieldType::Ffn)[size_t(spec.*member)];
        else if constexpr (std::is_same_v<T, PositionKind>)
          return spec_kind_names(SpecFieldType::Positions)[size_t(spec.*member)];
        else if constexpr (std::is_same_v<T, RopeScaling>) return hf_rope_scaling(spec.*member);
        else return json(spec.*member);
      },
      field(name).member);
}

std::optional<std::string> count_expression_problem(const std::string& expr) {
  const std::vector<std::string> t = tokens(expr);
  auto is_count = [](const std::string& n) { return spec_field_type(n) == SpecFieldType::Count; };
  const bool ok = (t.size() == 1 && is_count(t[0])) ||
                  (t.size() == 3 && t[1] == "*" && is_number(t[0]) && is_count(t[2])) ||
                  (t.size() == 3 && t[1] == "/" && is_count(t[0]) && is_count(t[2]));
  if (ok) return std::nullopt;
  return "'" + expr + "' is not a count, 'field', 'N * field' or 'field / field' over count fields";
}

std::vector<std::string> count_expression_fields(const std::string& expr) {
  std::vector<std::string> out;
  for (const auto& t : tokens(expr))
    if (spec_field_type(t)) out.push_back(t);
  return out;
}

uint64_t evaluate_count_expression(const std::string& expr, const ModelSpec& spec) {
  const std::vector<std::string> t = tokens(expr);
  auto value = [&](const std::string& n) { return get_spec_field(spec, n).get<uint64_t>(); };
  if (t.size() == 1) return value(t[0]);
  if (t[1] == "*") return std::stoull(t[0]) * value(t[2]);  // both bounded: no overflow
  const uint64_t d = value(t[2]);
  return d == 0 ? 0 : value(t[0]) / d;  // 0 is refused by ModelSpec::check
}

RopeScaling rope_scaling_from_hf(const json& v, const std::string& key, const std::string& source) {
  RopeScaling r;
  if (v.is_null()) return r;
  if (!v.is_object()) throw type_error(key, source, "an object or null");
  // transformers' modeling_rope_utils: "rope_type", formerly "type"; absent = "default".
  std::string type = "default";
  for (const char* k : {"rope_type", "type"})
    if (v.contains(k) && v.at(k).is_string()) {
      type = v.at(k).get<std::string>();
      break;
    }
  auto need = [&](const char* k) -> const json& {
    if (!v.contains(k) || v.at(k).is_null())
      throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' of type '" + type + "' needs '" + k + "'");
    return v.at(k);
  };
  auto number = [&](const char* k) { return real_from_json(need(k), key + "/" + k, source); };
  if (type == "default") return r;
  if (type == "linear") {
    r.kind = RopeScalingKind::Linear;
    r.factor = number("factor");
  } else if (type == "llama3") {
    r.kind = RopeScalingKind::Llama3;
    r.factor = number("factor");
    r.low_freq_factor = number("low_freq_factor");
    r.high_freq_factor = number("high_freq_factor");
    r.original_max_position_embeddings =
        count_from_json(need("original_max_position_embeddings"), key + "/original_max_position_embeddings", source);
  } else {
    throw bad_input("spec.105", {source, {}, {}},
                    "'" + key + "' type '" + type + "' is not supported (supported: linear, llama3)");
  }
  return r;
}

json hf_rope_scaling(const RopeScaling& r) {
  switch (r.kind) {
    case RopeScalingKind::None: return nullptr;
    case RopeScalingKind::Linear: return {{"rope_type", "linear"}, {"factor", r.factor}};
    case RopeScalingKind::Llama3:
      return {{"rope_type", "llama3"},
              {"factor", r.factor},
              {"low_freq_factor", r.low_freq_factor},
              {"high_freq_factor", r.high_freq_factor},
              {"original_max_position_embeddings", r.original_max_position_embeddings}};
  }
  return nullptr;
}

}  // namespace supra
