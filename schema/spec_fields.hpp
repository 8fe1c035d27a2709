#pragma once
// The ModelSpec fields the architecture tables talk about, by name: the facts
// of a table's "forward" section and the targets of its "hf_config" mapping
// (schema/architectures/*.json, docs/conventions.md). Values are read and
// written as JSON so that one generic reader and writer serve every table.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace supra {

struct ModelSpec;
struct RopeScaling;

enum class SpecFieldType {
  Count,        // non-negative integer
  Real,         // finite number
  Bool,         // true / false
  Norm,         // "rms_norm" | "layer_norm"
  Ffn,          // "swiglu" | "gelu" | "gelu_tanh"
  Positions,    // "rope" | "learned"
  RopeScaling,  // HF's rope_scaling object; null = none
};

std::optional<SpecFieldType> spec_field_type(const std::string& name);
bool is_enum_type(SpecFieldType type);
// Every field, in the order an HF config.json is written.
const std::vector<std::string>& spec_field_names();
// The value names of an enum type as the tables write them (empty for other types).
const std::vector<std::string>& spec_kind_names(SpecFieldType type);

// Sets field `name` from a JSON value. `key` and `source` name the value in
// errors: bad_input spec.101 for a wrong type, spec.105 for a rope_scaling
// type the forward pass does not implement.
void set_spec_field(ModelSpec& spec, const std::string& name, const nlohmann::json& value, const std::string& key,
                    const std::string& source);
// The value of field `name`, as set_spec_field takes it.
nlohmann::json get_spec_field(const ModelSpec& spec, const std::string& name);

// A count: a non-negative integer (4096.0 is accepted), at most 2^40.
uint64_t count_from_json(const nlohmann::json& v, const std::string& key, const std::string& source);
// A finite number.
double real_from_json(const nlohmann::json& v, const std::string& key, const std::string& source);

// Defaults of count fields may derive from other counts: "heads",
// "4 * hidden", "hidden / heads". A problem description, or nullopt when well formed.
std::optional<std::string> count_expression_problem(const std::string& expr);
std::vector<std::string> count_expression_fields(const std::string& expr);
uint64_t evaluate_count_expression(const std::string& expr, const ModelSpec& spec);

// HF `rope_scaling` (or transformers 5's `rope_parameters`) <-> RopeScaling.
// Types "linear" and "llama3" (and "default" = none); any other type is refused (spec.105).
RopeScaling rope_scaling_from_hf(const nlohmann::json& v, const std::string& key, const std::string& source);
nlohmann::json hf_rope_scaling(const RopeScaling& r);

}  // namespace supra
