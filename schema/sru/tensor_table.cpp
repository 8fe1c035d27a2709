#include "schema/sru/tensor_table.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "schema/embedded_tables.hpp"
#include "schema/error.hpp"

namespace supra::sru {

namespace {

using json = nlohmann::json;

const json& table(Kind kind) {
  static const json tables[2] = {json::parse(table_text(Kind::Sru)), json::parse(table_text(Kind::Srupp))};
  return tables[kind == Kind::Sru ? 0 : 1];
}

// The dimensions a layer's shapes are products of (schema/sru/*.json).
std::map<std::string, uint64_t> symbols(const Config& c, int64_t layer) {
  std::map<std::string, uint64_t> s{{"O", c.output_size()}, {"input_size", c.input_size}};
  if (c.lm) {
    s["V"] = c.lm->vocab_size;
    s["E"] = c.lm->emb_dim;
  }
  if (layer >= 0) {
    s["n_in"] = c.layer_input(uint64_t(layer));
    s["k"] = c.layer_k(uint64_t(layer));
    s["P"] = c.layer_projection(uint64_t(layer));
  }
  return s;
}

// "O*k", "2*P", "1": a product of integers and symbols.
uint64_t evaluate(const std::string& expr, const std::map<std::string, uint64_t>& s) {
  uint64_t v = 1;
  size_t start = 0;
  while (start <= expr.size()) {
    const size_t star = expr.find('*', start);
    const std::string factor = expr.substr(start, star == std::string::npos ? std::string::npos : star - start);
    const auto it = s.find(factor);
    if (it != s.end()) v *= it->second;
    else if (!factor.empty() && factor.find_first_not_of("0123456789") == std::string::npos) v *= std::stoull(factor);
    else throw Error(ErrorKind::Internal, "sru.200", {"schema/sru", {}, {}}, "unknown dimension '" + factor + "'");
    if (star == std::string::npos) break;
    start = star + 1;
  }
  return v;
}

bool condition(const std::string& name, const Config& c, int64_t layer) {
  const bool attn = layer >= 0 && c.layer_has_attention(uint64_t(layer));
  if (name == "lm") return c.lm.has_value();
  if (name == "attention") return attn;
  if (name == "projected") return layer >= 0 && !attn;
  if (name == "attn_layer_norm") return c.attn_layer_norm;
  if (name == "cell_pre_ln") return c.cell_pre_ln();
  if (name == "cell_post_ln") return c.cell_post_ln();
  if (name == "input_to_hidden") return c.has_input_to_hidden();
  if (name == "no_projection") return layer >= 0 && c.layer_projection(uint64_t(layer)) == 0;
  if (name == "projection") return layer >= 0 && c.layer_projection(uint64_t(layer)) > 0;
  throw Error(ErrorKind::Internal, "sru.200", {"schema/sru", {}, {}}, "unknown condition '" + name + "'");
}

void add_section(const json& entries, const std::string& prefix, const Config& c, int64_t layer,
                 std::vector<ExpectedTensor>& out) {
  const auto s = symbols(c, layer);
  for (const json& e : entries) {
    bool on = true;
    for (const json& w : e.value("when", json::array())) on = on && condition(w.get<std::string>(), c, layer);
    if (!on) continue;
    ExpectedTensor t;
    t.key = prefix + e.at("key").get<std::string>();
    for (const json& d : e.at("shape")) t.shape.push_back(evaluate(d.get<std::string>(), s));
    t.role = e.at("role").get<std::string>();
    t.layout = e.value("layout", "");
    t.layer = layer;
    out.push_back(std::move(t));
  }
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// sru.md section 6 trap 6 and section 5: what a mismatch usually means.
std::string hints(const std::vector<std::string>& missing, const std::vector<std::string>& extra,
                  const Config& c) {
  auto any = [](const std::vector<std::string>& keys, const std::string& part) {
    for (const auto& k : keys)
      if (k.find(part) != std::string::npos) return true;
    return false;
  };
  std::string h;
  if (any(extra, "module.")) h += " Hint: the keys carry a 'module.' prefix (DataParallel); the training scripts save without it.";
  if (c.layer_norm && any(missing, ".layer_norm.") && !any(extra, ".layer_norm."))
    h += " Hint: checkpoints of revisions before 24363c1 used layer_norm=true for the attention/projection LN: "
         "set layer_norm=false, attn_layer_norm=true (sru.md section 8, trap 6).";
  if (any(missing, "transform_module.alpha") && !any(extra, "transform_module.alpha"))
    h += " Hint: no rezero alpha: revisions abfb3d6..24363c1 and 3.0.0-dev-apex with use_rezero=False; "
         "not supported by this revision's SRUpp (sru.md section 8, trap 6).";
  return h;
}

}  // namespace

const std::string& table_text(Kind kind) {
  static const auto find = [](const std::string& path) {
    for (const EmbeddedFile& f : embedded_table_files())
      if (f.path == path) return std::string(f.text);
    throw Error(ErrorKind::Internal, "sru.200", {path, {}, {}}, "table not embedded in the binary");
  };
  static const std::string texts[2] = {find("schema/sru/sru.json"), find("schema/sru/srupp.json")};
  return texts[kind == Kind::Sru ? 0 : 1];
}

std::vector<ExpectedTensor> expected_tensors(const Config& c) {
  const json& t = table(c.kind);
  const std::string rnn = c.lm ? "rnn." : "";
  std::vector<ExpectedTensor> out;
  add_section(t.at("lm_head"), "", c, -1, out);
  add_section(t.at("rnn_head"), rnn, c, -1, out);
  std::string layer_prefix = t.at("layer_prefix").get<std::string>();
  const size_t slot = layer_prefix.find("{i}");
  for (uint64_t l = 0; l < c.num_layers; ++l) {
    std::string p = layer_prefix;
    p.replace(slot, 3, std::to_string(l));
    add_section(t.at("layer"), rnn + p, c, int64_t(l), out);
  }
  add_section(t.at("rnn_tail"), rnn, c, -1, out);
  add_section(t.at("lm_tail"), "", c, -1, out);
  return out;
}

bool is_adaptive_softmax_key(const std::string& key) {
  for (const char* part : {"out_layers.", "out_projs.", "emb_projs.", "emb_layers.", "cluster_weight", "cluster_bias"})
    if (key.find(part) != std::string::npos) return true;
  return false;
}

void check_checkpoint(const Checkpoint& ckpt, const Config& c, const std::string& file) {
  for (const auto& t : ckpt.tensors)
    if (is_adaptive_softmax_key(t->name()))
      throw bad_input("sru.202", {file, t->name(), {}},
                      "an adaptive-input / adaptive-softmax LM (train_wt103.py / train_lm1b.py): not supported, "
                      "only the enwik8 LM (embedding_layer, output_layer) and bare SRU / SRU++ modules");
  std::map<std::string, std::vector<uint64_t>> want;
  for (const auto& e : expected_tensors(c)) want[e.key] = e.shape;
  std::vector<std::string> missing, extra, mismatched;
  std::set<std::string> seen;
  for (const auto& t : ckpt.tensors) {
    seen.insert(t->name());
    const auto it = want.find(t->name());
    if (it == want.end()) extra.push_back(t->name());
    else if (it->second != t->info().shape)
      mismatched.push_back(t->name() + " is " + t->info().shape_string() + ", the config makes " + shape_text(it->second));
  }
  for (const auto& e : expected_tensors(c))
    if (!seen.count(e.key)) missing.push_back(e.key + " " + shape_text(e.shape));
  if (missing.empty() && extra.empty() && mismatched.empty()) return;
  auto list = [](const char* what, const std::vector<std::string>& v) {
    std::string s;
    if (v.empty()) return s;
    s = std::string(" ") + what + " (" + std::to_string(v.size()) + "):";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : " ") + v[i];
    return s + ".";
  };
  throw bad_input("sru.201", {file, {}, {}},
                  std::string("the state dict does not match ") + c.source + " (" + c.kind_name() + ", strict)." +
                      list("missing keys", missing) + list("unexpected keys", extra) +
                      list("shape mismatches", mismatched) + hints(missing, extra, c));
}

}  // namespace supra::sru
