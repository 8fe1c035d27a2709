#pragma once
// Architectures and naming conventions as data.
//
// An *architecture* (schema/architectures/<name>.json) lists the tensors a
// model has by canonical id ("attn_q.weight"), global or per layer, with
// flags: optional, tied_to (absent = that other tensor), rope (q/k rows that
// move between RoPE layouts) and a symbolic shape checked against ModelSpec.
//
// A *convention* (schema/conventions/<name>.json) maps canonical ids to file
// names, with "{bid}" standing for the layer number, and describes fused
// tensors (several ids stored as one), Conv1D-style transposed storage, the
// RoPE row order and Meta tensor-parallel shard dims.
//
// An architecture also states its forward-pass facts ("forward": norm kind,
// FFN kind, positions, biases, ...), how HF config.json names the ModelSpec
// fields ("hf_config"), and its GGUF architecture name ("gguf_architecture").
//
// Both are parsed strictly: an unknown key or a malformed entry is an error
// naming the table file and the JSON path ("schema.302 ... at /tensors/x/nmae").
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace supra {

// Which RoPE row order q/k projections are stored in (docs/conventions.md, the `rope` field).
enum class RopeLayout {
  None,          // no rotary embedding (GPT-2)
  RotateHalf,    // HF / GPT-NeoX: pairs (i, i + hd/2)
  Interleaved,   // Meta / GGUF llama: pairs (2i, 2i + 1)
  FromSpec,      // decided by the model config (open_lm 'rotary' vs 'llama_rotary')
};

enum class RopeRole { None, Q, K };  // uses n_heads (Q) or n_kv_heads (K)

struct ArchitectureTensor {
  std::string id;                   // "attn_q.weight"
  bool per_layer = false;
  bool optional = false;
  std::string tied_to;              // absent from a checkpoint => this other id
  RopeRole rope = RopeRole::None;
  std::vector<std::string> shape;   // symbols: hidden, q_dim, kv_dim, ffn, vocab, context, head_dim_half,
                                    // feature_q, feature_k (SUPRA)
};

// How one ModelSpec field is read from an HF config.json and written back
// (an entry of a table's "hf_config" section; docs/conventions.md).
struct HfConfigField {
  std::string field;                           // ModelSpec field (schema/spec_fields.hpp): "kv_heads"
  std::vector<std::string> keys;               // config keys, the first present and non-null wins;
                                               // "a/b" = key b inside object a; keys[0] is written
  std::optional<nlohmann::json> absent_value;  // "default": no key present (a count may be "4 * hidden")
  std::optional<nlohmann::json> null_value;    // "null": the key is null (unset: as "default")
  std::string only_if;                         // read only when this config key is true, else as null
  std::vector<std::pair<std::string, std::string>> values;  // enum fields: config string -> kind name;
                                                            // the first string of a kind is written
};

// An HF model_type an architecture covers, with its own defaults.
struct HfModelType {
  std::string model_type;             // "mistral"
  std::string class_name;             // "MistralForCausalLM"
  std::vector<HfConfigField> fields;  // the table's fields with this type's overrides, in spec_field_names() order

  const HfConfigField* find(const std::string& field) const;
};

struct Architecture {
  std::string name;
  std::string description;
  std::vector<ArchitectureTensor> tensors;  // globals first, then per-layer, in file order
  // "forward": ModelSpec field -> value every reader starts from (norm, ffn_kind, biases, ...).
  std::map<std::string, nlohmann::json> forward;
  std::vector<HfModelType> hf_model_types;  // the first is written when a spec names none
  std::map<std::string, nlohmann::json> hf_refuse_if;  // config key -> a value the forward pass does not implement
  std::string gguf_architecture;            // general.architecture of its GGUF files ("" = none)

  const ArchitectureTensor* find(const std::string& id) const;
  const HfModelType* hf_model_type(const std::string& model_type) const;
};

enum class Fusion { None, Concat, InterleaveHeads };

struct ConventionEntry {
  std::string id;                   // canonical id, or a fused id ("attn_qkv.weight")
  std::string name;                 // template with {bid}
  std::vector<std::string> aliases; // other accepted names (reading only)
  std::vector<std::string> fuses;   // canonical ids stored in this one tensor, in order
  Fusion fusion = Fusion::None;
  bool transposed = false;          // stored [in, out] (GPT-2 Conv1D)
  bool omit_when_tied = false;      // not written when tied to its tied_to tensor
  std::optional<int> shard_dim;     // Meta tensor-parallel: concat dim (none = replicated)
  std::optional<int> shard_dim_when_full_width;  // ... if a shard already has the full width
  bool per_layer() const { return name.find("{bid}") != std::string::npos; }
};

struct Convention {
  std::string name;                 // "hf_llama"
  std::string layout;               // user-facing layout family: hf, meta, gguf, open_lm
  std::string description;
  std::vector<std::string> architectures;
  RopeLayout rope = RopeLayout::None;
  std::vector<std::string> accept_prefixes;  // e.g. "module." (DDP), "transformer."
  std::vector<std::string> ignore;           // buffers that are not parameters (templates)
  std::vector<ConventionEntry> entries;

  const ConventionEntry* find(const std::string& id) const;
};

// Strict parsers; `source` names the table in error messages.
Architecture parse_architecture(const nlohmann::json& j, const std::string& source);
Convention parse_convention(const nlohmann::json& j, const std::string& source);
// Checks that every id a convention names is a tensor of one of `archs`.
void check_convention_against(const Convention& c, const std::vector<const Architecture*>& archs,
                              const std::string& source);

// The built-in tables (embedded at build time), parsed and checked once.
const std::vector<Architecture>& all_architectures();
const std::vector<Convention>& all_conventions();
const Architecture& find_architecture(const std::string& name);  // throws usage_error
const Convention& find_convention(const std::string& name);      // throws usage_error
// The convention of a layout family for an architecture ("hf" + "gpt2" -> hf_gpt2).
const Convention& convention_for(const std::string& layout, const std::string& architecture);
// The architecture whose hf_model_types or name is `model_type` ("mistral" -> llama).
const Architecture* architecture_for_model_type(const std::string& model_type);
// The architecture whose GGUF files say general.architecture = `gguf_name`.
const Architecture* architecture_for_gguf(const std::string& gguf_name);

// A tensor name resolved against a convention.
struct NameMatch {
  const ConventionEntry* entry = nullptr;
  std::optional<uint64_t> layer;
};

// Expands a convention's templates for `n_layers` layers into a name -> entry
// dictionary (aliases and accepted prefixes included), like gguf-py's
// TensorNameMap. Names listed under "ignore" map to an entry-less match.
class NameResolver {
 public:
  NameResolver(const Convention& c, uint64_t n_layers);
  // nullopt: no rule matches. A match with entry == nullptr: an ignored buffer.
  std::optional<NameMatch> resolve(const std::string& name) const;
  static std::string expand(const std::string& name_template, std::optional<uint64_t> layer);

 private:
  const Convention* convention_;
  std::map<std::string, NameMatch> names_;
};

// Counts names that match `c` with any layer number (for auto-detection).
size_t count_matching_names(const Convention& c, const std::vector<std::string>& names);

}  // namespace supra
