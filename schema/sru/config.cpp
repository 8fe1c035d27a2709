#include "schema/sru/config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "schema/error.hpp"

namespace supra::sru {

namespace {

using json = nlohmann::ordered_json;

// Every argument of the authors' constructors (3.0.0-dev, c2d44e6) with its
// default: the required keys of rnn_kwargs, and the config skeleton.
const json& sru_arguments() {
  static const json j = json::parse(R"({
    "input_size": null, "hidden_size": null, "num_layers": 2, "dropout": 0.0, "rnn_dropout": 0.0,
    "bidirectional": false, "projection_size": 0, "highway_bias": 0.0, "layer_norm": false,
    "normalize_after": false, "transform_module": null, "has_skip_term": true, "rescale": false,
    "use_tanh": false, "v1": false, "nn_rnn_compatible_return": false, "proj_input_to_hidden_first": false,
    "amp_recurrence_fp16": true, "weight_c_init": 1.0})");
  return j;
}
const json& srupp_arguments() {
  static const json j = json::parse(R"({
    "input_size": null, "hidden_size": null, "proj_size": null, "num_layers": 2, "dropout": 0.0,
    "attn_dropout": 0.0, "num_heads": 1, "bidirectional": false, "layer_norm": false,
    "normalize_after": false, "attn_layer_norm": true, "highway_bias": -2.0, "attention_every_n_layers": 1,
    "attention_last_n_layers": -1, "rescale": false, "nn_rnn_compatible_return": false,
    "proj_input_to_hidden_first": false, "weight_c_init": 1.0})");
  return j;
}

[[noreturn]] void fail(const std::string& id, const std::string& source, const std::string& path,
                       const std::string& detail) {
  throw bad_input(id, {source, {}, {}}, "at " + path + ": " + detail);
}

// An object whose keys must be exactly `keys` (all present, none other).
void require_exact_keys(const json& j, const std::string& source, const std::string& path,
                        const std::set<std::string>& required, const std::set<std::string>& optional = {}) {
  if (!j.is_object()) fail("sru.101", source, path, "expected an object");
  for (const auto& [k, v] : j.items())
    if (!required.count(k) && !optional.count(k))
      fail("sru.102", source, path + "/" + k, "unknown field '" + k + "'");
  for (const auto& k : required)
    if (!j.contains(k)) fail("sru.103", source, path, "missing required field '" + k + "' (no silent defaults: sru.md section 6)");
}

struct Reader {
  const json& j;
  std::string source, path;
  bool boolean(const std::string& k) const {
    if (!j.at(k).is_boolean()) fail("sru.104", source, path + "/" + k, "expected true or false");
    return j.at(k).get<bool>();
  }
  int64_t integer(const std::string& k, int64_t min) const {
    const json& v = j.at(k);
    if (!v.is_number_integer() || v.get<int64_t>() < min)
      fail("sru.104", source, path + "/" + k, "expected an integer >= " + std::to_string(min));
    return v.get<int64_t>();
  }
  double number(const std::string& k) const {
    if (!j.at(k).is_number()) fail("sru.104", source, path + "/" + k, "expected a number");
    return j.at(k).get<double>();
  }
};

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

void read_sru_arguments(const Reader& r, Config& c) {
  if (!r.j.at("transform_module").is_null())
    fail("sru.105", r.source, r.path + "/transform_module", "custom transform modules are not supported (null only)");
  const json& p = r.j.at("projection_size");
  if (p.is_array()) {
    if (p.size() != c.num_layers)
      fail("sru.104", r.source, r.path + "/projection_size", "expected one value per layer");
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].is_number_integer() || p[i].get<int64_t>() < 0)
        fail("sru.104", r.source, r.path + "/projection_size/" + std::to_string(i), "expected an integer >= 0");
      c.projection_size.push_back(p[i].get<uint64_t>());
    }
  } else {
    c.projection_size.assign(c.num_layers, uint64_t(r.integer("projection_size", 0)));
  }
  c.has_skip_term = r.boolean("has_skip_term");
  c.use_tanh = r.boolean("use_tanh");
  for (const char* k : {"v1", "amp_recurrence_fp16"}) r.boolean(k);
  r.number("rnn_dropout");
}

void read_srupp_arguments(const Reader& r, Config& c) {
  c.proj_size = uint64_t(r.integer("proj_size", 1));
  c.num_heads = uint64_t(r.integer("num_heads", 1));
  if (c.proj_size % c.num_heads != 0)
    fail("sru.106", r.source, r.path + "/num_heads", "num_heads must divide proj_size (sru/modules.py:754)");
  c.attn_layer_norm = r.boolean("attn_layer_norm");
  c.attention_every_n_layers = r.integer("attention_every_n_layers", 1);
  c.attention_last_n_layers = r.integer("attention_last_n_layers", -1);
  if (c.attention_every_n_layers != 1 && c.attention_last_n_layers != -1)
    fail("sru.106", r.source, r.path, "attention_every_n_layers and attention_last_n_layers are both set (sru/modules.py:1015)");
  r.number("attn_dropout");
}

Config parse_rnn_kwargs(const json& kw, Kind kind, const std::string& source) {
  const json& args = kind == Kind::Sru ? sru_arguments() : srupp_arguments();
  require_exact_keys(kw, source, "/rnn_kwargs", keys_of(args));
  const Reader r{kw, source, "/rnn_kwargs"};
  Config c;
  c.kind = kind;
  c.source = source;
  c.input_size = uint64_t(r.integer("input_size", 1));
  c.hidden_size = uint64_t(r.integer("hidden_size", 1));
  c.num_layers = uint64_t(r.integer("num_layers", 1));
  c.bidirectional = r.boolean("bidirectional");
  c.layer_norm = r.boolean("layer_norm");
  c.normalize_after = r.boolean("normalize_after");
  c.rescale = r.boolean("rescale");
  c.nn_rnn_compatible_return = r.boolean("nn_rnn_compatible_return");
  c.proj_input_to_hidden_first = r.boolean("proj_input_to_hidden_first");
  c.highway_bias = r.number("highway_bias");
  r.number("dropout");
  r.number("weight_c_init");
  if (kind == Kind::Sru) read_sru_arguments(r, c);
  else read_srupp_arguments(r, c);
  return c;
}

void read_lm_and_eval(const json& j, Config& c) {
  if (!j.at("lm").is_null()) {
    require_exact_keys(j.at("lm"), c.source, "/lm", {"vocab_size", "emb_dim"});
    const Reader r{j.at("lm"), c.source, "/lm"};
    c.lm = LmConfig{uint64_t(r.integer("vocab_size", 1)), uint64_t(r.integer("emb_dim", 1))};
    if (c.lm->emb_dim != c.input_size)
      fail("sru.107", c.source, "/lm/emb_dim", "the LM feeds the embedding to the RNN: emb_dim must equal rnn_kwargs.input_size");
    if (c.bidirectional) fail("sru.107", c.source, "/lm", "a language model cannot be bidirectional");
  }
  if (j.contains("eval")) {
    require_exact_keys(j.at("eval"), c.source, "/eval", {"segment", "same_length"});
    const Reader r{j.at("eval"), c.source, "/eval"};
    c.eval = EvalConfig{uint64_t(r.integer("segment", 1)), r.boolean("same_length")};
    if (!c.lm) fail("sru.107", c.source, "/eval", "segment-wise evaluation is for language models (lm is null)");
  }
}

}  // namespace

uint64_t Config::layer_input(uint64_t layer) const {
  if (layer > 0 || has_input_to_hidden()) return output_size();
  return input_size;
}

uint64_t Config::layer_k(uint64_t layer) const {
  // sru/modules.py:130-132; SRU++ has the skip term always on (:1049).
  const bool skip = kind == Kind::Srupp || has_skip_term;
  return skip && layer_input(layer) != output_size() ? 4 : 3;
}

bool Config::layer_has_attention(uint64_t layer) const {
  if (kind != Kind::Srupp) return false;
  if (attention_last_n_layers != -1) return int64_t(num_layers - layer) <= attention_last_n_layers;
  return (layer + 1) % uint64_t(attention_every_n_layers) == 0;
}

uint64_t Config::layer_projection(uint64_t layer) const {
  return kind == Kind::Srupp ? proj_size : projection_size.at(layer);
}

Config parse_config(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw bad_input("sru.100", {source, {}, {}}, std::string("not JSON: ") + e.what());
  }
  require_exact_keys(j, source, "/", {"kind", "rnn_kwargs", "lm"}, {"eval"});
  const json& kind = j.at("kind");
  if (!kind.is_string() || (kind != "sru" && kind != "srupp"))
    fail("sru.104", source, "/kind", "expected \"sru\" or \"srupp\"");
  Config c = parse_rnn_kwargs(j.at("rnn_kwargs"), kind == "sru" ? Kind::Sru : Kind::Srupp, source);
  read_lm_and_eval(j, c);
  return c;
}

Config read_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("sru.108", {path.string(), {}, {}}, "cannot open the SRU config");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

std::string constructor_arguments(Kind kind) {
  return (kind == Kind::Sru ? sru_arguments() : srupp_arguments()).dump(2);
}

}  // namespace supra::sru
