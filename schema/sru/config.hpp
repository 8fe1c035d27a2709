#pragma once
// sru_config.json: what the authors' constructor was called with, which a
// state dict cannot reveal (../shared/reference/sru.md section 6). Every
// constructor argument of sru.SRU / sru.SRUpp is required by name, none is
// defaulted: a flipped bidirectional, num_heads, normalize_after or rescale
// loads strictly and computes something else.
//
// {"kind": "sru"|"srupp", "rnn_kwargs": {...}, "lm": {"vocab_size": V,
//  "emb_dim": E} or null, "eval": {"segment": S, "same_length": true}}  (eval optional)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace supra::sru {

enum class Kind { Sru, Srupp };

struct LmConfig {
  uint64_t vocab_size = 0;
  uint64_t emb_dim = 0;
};

struct EvalConfig {
  uint64_t segment = 0;  // tokens per segment (train_enwik8.py's eval_unroll_size)
  bool same_length = true;
};

struct Config {
  Kind kind = Kind::Srupp;
  std::string source;  // the file it was read from (error messages)

  uint64_t input_size = 0, hidden_size = 0, num_layers = 0;
  bool bidirectional = false;
  bool layer_norm = false, normalize_after = false;
  bool rescale = false;
  bool nn_rnn_compatible_return = false;
  bool proj_input_to_hidden_first = false;
  double highway_bias = 0;  // init only; kept for the config skeleton and the report
  // SRU only.
  std::vector<uint64_t> projection_size;  // per layer (a single value is repeated)
  bool has_skip_term = true, use_tanh = false;
  // SRU++ only.
  uint64_t proj_size = 0, num_heads = 1;
  bool attn_layer_norm = true;
  int64_t attention_every_n_layers = 1, attention_last_n_layers = -1;

  std::optional<LmConfig> lm;
  std::optional<EvalConfig> eval;

  // Derived, as the authors' constructors compute them.
  uint64_t directions() const { return bidirectional ? 2 : 1; }
  uint64_t output_size() const { return hidden_size * directions(); }  // O
  bool has_input_to_hidden() const { return proj_input_to_hidden_first && input_size != output_size(); }
  uint64_t layer_input(uint64_t layer) const;  // n_in
  uint64_t layer_k(uint64_t layer) const;      // 3 or 4 rows per unit
  bool layer_has_attention(uint64_t layer) const;  // SRU++ (sru/modules.py:1040-1043)
  uint64_t layer_projection(uint64_t layer) const;  // P of the layer (SRU: 0 = none)
  bool cell_pre_ln() const { return layer_norm && !normalize_after; }
  bool cell_post_ln() const { return layer_norm && normalize_after; }
  const char* kind_name() const { return kind == Kind::Sru ? "sru" : "srupp"; }
};

// Throws bad_input("sru.1xx") naming the file and the JSON pointer of the
// missing, unknown or ill-typed field.
Config parse_config(const std::string& json_text, const std::string& source);
Config read_config(const std::filesystem::path& path);

// A JSON object holding every argument of the constructor of `kind` with the
// authors' defaults, for `inspect --emit-sru-config` to fill in.
std::string constructor_arguments(Kind kind);

}  // namespace supra::sru
