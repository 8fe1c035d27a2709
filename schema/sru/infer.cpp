#include "schema/sru/infer.hpp"

#include <nlohmann/json.hpp>

#include "schema/error.hpp"
#include "schema/sru/tensor_table.hpp"

namespace supra::sru {

namespace {

const TensorSource* find(const Checkpoint& c, const std::string& key) { return c.find(key); }

uint64_t dim(const TensorSource* t, size_t i) { return t ? t->info().shape.at(i) : 0; }

}  // namespace

Inferred infer_structure(const Checkpoint& ckpt, const std::string& file) {
  for (const auto& t : ckpt.tensors)
    if (is_adaptive_softmax_key(t->name()))
      throw bad_input("sru.202", {file, t->name(), {}}, "an adaptive-softmax LM (wt103 / lm1b): not supported");
  Inferred s;
  if (find(ckpt, "embedding_layer.weight")) {
    s.prefix = "rnn.";
    const auto* e = find(ckpt, "embedding_layer.weight");
    s.lm = LmConfig{dim(e, 0), dim(e, 1)};
  }
  const std::string p = s.prefix + "rnn_lst.";
  for (uint64_t l = 0;; ++l) {
    const std::string lp = p + std::to_string(l) + ".";
    const TensorSource* wc = find(ckpt, lp + "weight_c");
    if (!wc) break;
    if (wc->info().shape.size() != 1) throw bad_input("sru.203", {file, wc->name(), {}}, "weight_c is not 1-D");
    s.output_size = wc->info().shape[0] / 2;
    InferredLayer L;
    const TensorSource* lin1 = find(ckpt, lp + "transform_module.linear1.weight");
    const TensorSource* w = find(ckpt, lp + "transform_module.weight");
    const TensorSource* w0 = find(ckpt, lp + "transform_module.0.weight");
    const TensorSource* w1 = find(ckpt, lp + "transform_module.1.weight");
    if (lin1) {
      s.kind = Kind::Srupp;
      L.attention = find(ckpt, lp + "transform_module.alpha") != nullptr;
      L.n_in = dim(lin1, 1);
      L.projection = dim(lin1, 0);
      const TensorSource* out = find(ckpt, lp + (L.attention ? "transform_module.linear3.weight" : "transform_module.linear2.weight"));
      L.k = s.output_size ? dim(out, 0) / s.output_size : 0;
    } else if (w || w0) {
      s.kind = Kind::Sru;
      L.n_in = w ? dim(w, 1) : dim(w0, 1);
      L.projection = w ? 0 : dim(w0, 0);
      L.k = s.output_size ? (w ? dim(w, 0) : dim(w1, 0)) / s.output_size : 0;
    } else {
      throw bad_input("sru.203", {file, lp + "transform_module", {}}, "no transform_module weights: not an SRU / SRU++ layer");
    }
    L.transform_norm = find(ckpt, lp + "transform_module.layer_norm.weight") != nullptr;
    L.cell_norm = find(ckpt, lp + "layer_norm.weight") != nullptr;
    s.layers.push_back(L);
  }
  if (s.layers.empty())
    throw bad_input("sru.203", {file, {}, {}}, "no " + p + "0.weight_c: not an SRU / SRU++ state dict");
  const TensorSource* ih = find(ckpt, s.prefix + "input_to_hidden.weight");
  s.input_to_hidden = ih != nullptr;
  s.input_size = ih ? dim(ih, 1) : s.layers[0].n_in;
  return s;
}

std::string config_skeleton(const Inferred& s) {
  auto args = nlohmann::ordered_json::parse(constructor_arguments(s.kind));
  const char* fill = "FILL IN (the state dict cannot say; sru.md section 6)";
  args["input_size"] = s.input_size;
  args["hidden_size"] = std::string("FILL IN: ") + std::to_string(s.output_size) + " (unidirectional) or " +
                        std::to_string(s.output_size / 2) + " (bidirectional)";
  args["num_layers"] = s.layers.size();
  args["bidirectional"] = fill;
  args["normalize_after"] = fill;
  args["rescale"] = fill;
  args["nn_rnn_compatible_return"] = fill;
  args["layer_norm"] = s.layers[0].cell_norm;
  args["proj_input_to_hidden_first"] = s.input_to_hidden;
  if (s.kind == Kind::Srupp) {
    args["proj_size"] = s.layers[0].projection;
    args["num_heads"] = fill;
    args["attn_layer_norm"] = s.layers[0].transform_norm;
    args["attention_every_n_layers"] = "FILL IN: 1 unless attention is every n-th layer (see the layer list)";
    args["attention_last_n_layers"] = "FILL IN: -1 unless attention is in the last n layers";
  } else {
    nlohmann::ordered_json p = nlohmann::ordered_json::array();
    for (const auto& L : s.layers) p.push_back(L.projection);
    args["projection_size"] = p;
    args["has_skip_term"] = fill;
    args["use_tanh"] = fill;
  }
  nlohmann::ordered_json j;
  j["kind"] = s.kind == Kind::Sru ? "sru" : "srupp";
  j["rnn_kwargs"] = args;
  j["lm"] = s.lm ? nlohmann::ordered_json{{"vocab_size", s.lm->vocab_size}, {"emb_dim", s.lm->emb_dim}}
                 : nlohmann::ordered_json(nullptr);
  if (s.lm) j["eval"] = {{"segment", fill}, {"same_length", true}};
  return j.dump(2) + "\n";
}

}  // namespace supra::sru
