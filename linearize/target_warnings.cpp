#include "linearize/target_warnings.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "schema/error.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

constexpr double kOpenLmNormEps = 1e-5;  // open_lm Params.norm_eps

struct Notices {
  std::vector<TargetNotice> refusals, warnings;
  void refuse(std::string id, std::string field, std::string message) {
    refusals.push_back({std::move(id), std::move(field), std::move(message)});
  }
  void warn(std::string id, std::string field, std::string message) {
    warnings.push_back({std::move(id), std::move(field), std::move(message)});
  }
};

// "layer 3 keeps" / "layers 0,16 keep"
std::string layers_keep(const std::vector<uint64_t>& layers) {
  std::string s;
  for (uint64_t l : layers) s += (s.empty() ? "" : ",") + std::to_string(l);
  return (layers.size() == 1 ? "layer " : "layers ") + s + (layers.size() == 1 ? " keeps" : " keep");
}

// Tokens a tokenizer.json names (highest id + 1), or 0 when there is none to read.
uint64_t tokenizer_size(const std::filesystem::path& input) {
  std::error_code ec;
  const auto folder = std::filesystem::is_directory(input, ec) ? input : input.parent_path();
  std::ifstream in(folder / "tokenizer.json", std::ios::binary);
  if (!in) return 0;
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return 0;
  uint64_t n = 0;
  auto see = [&](const json& id) {
    if (id.is_number_unsigned()) n = std::max(n, id.get<uint64_t>() + 1);
  };
  if (j.contains("model") && j["model"].is_object() && j["model"].contains("vocab")) {
    const json& vocab = j["model"]["vocab"];
    if (vocab.is_object())
      for (const auto& [text, id] : vocab.items()) see(id);
    else if (vocab.is_array())
      n = std::max<uint64_t>(n, vocab.size());
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& t : j["added_tokens"])
      if (t.is_object() && t.contains("id")) see(t["id"]);
  return n;
}

void check_source_block(const ModelSpec& s, Notices& n) {
  if (s.supra) n.refuse("linearize.already_supra", "architecture", "the source is a SUPRA model already");
  if (s.ffn_kind != FfnKind::SwiGLU || s.positions != PositionKind::Rope || s.rotary_pct != 1.0 || s.parallel_residual)
    n.refuse("linearize.architecture", "architecture",
             "architecture '" + s.architecture + "' is not a Llama-family block (SwiGLU, full RoPE, sequential residual)");
  if (s.attn_qkv_bias)
    n.refuse("linearize.qkv_bias", "attn_qkv_bias", "the source has q/k/v biases and open_lm's in_proj has none");
  if (s.attn_out_bias || s.mlp_bias)
    n.refuse("linearize.bias", s.attn_out_bias ? "attn_out_bias" : "mlp_bias",
             "the source has output or MLP biases and open_lm's projections have none");
  if (s.rope_scaling.kind != RopeScalingKind::None)
    n.refuse("linearize.rope_scaling", "rope_scaling", "the source uses rope_scaling, which open_lm's rotary cannot state");
  if (s.head_dim * s.heads != s.hidden)
    n.refuse("linearize.head_dim", "head_dim",
             fmt::format("head_dim {} != hidden {} / heads {}: open_lm's in_proj uses dim // n_heads", s.head_dim,
                         s.hidden, s.heads));
}

void check_supra_options(const LinearizePlan& p, LinearizeTarget target, Notices& n) {
  const ModelSpec& s = p.source;
  const SupraSpec& sp = *p.spec.supra;
  if (sp.decay == SupraDecay::Lightning && (s.heads & (s.heads - 1)) != 0)
    n.refuse("linearize.lightning_heads", "heads",
             fmt::format("lightning decay needs a power-of-two head count, the source has {} heads (the authors' "
                         "get_slopes fails otherwise); use --decay retnet or none", s.heads));
  if (sp.qk_dim != s.head_dim)
    n.refuse("linearize.qk_dim_rotary", "qk_dim",
             fmt::format("--qk-dim {} != hidden / heads {} with rotary positions: open_lm builds the RoPE table for "
                         "head dim {} and applies it after the feature MLP", sp.qk_dim, s.head_dim, s.head_dim));
  std::vector<uint64_t> softmax;
  for (const auto& l : p.layers)
    if (!l.linear) softmax.push_back(l.layer);
  if (!softmax.empty() && target == LinearizeTarget::OpenLm)
    n.refuse("linearize.hybrid", "keep_softmax",
             layers_keep(softmax) + " softmax, and an open_lm config has one attn_name for every layer "
             "(use --target hf)");
  if (!softmax.empty() && s.sliding_window)
    n.refuse("linearize.sliding_window", "sliding_window",
             fmt::format("the kept softmax layers would lose the source's sliding_window {} (open_lm has none)",
                         s.sliding_window));
  if (!softmax.empty() && target == LinearizeTarget::Hf)
    n.warn("linearize.hybrid_hf", "supra_softmax_layers",
           layers_keep(softmax) + " softmax: supra reads config.json's supra_softmax_layers, the "
           "authors' HF wrapper ignores it and builds every layer as linear_attn");
  if (softmax.empty() && s.sliding_window)
    n.warn("linearize.sliding_window", "sliding_window",
           fmt::format("the source's sliding_window {} does not carry over: linear attention has no window (every "
                       "token sees the whole decayed prefix)", s.sliding_window));
  for (const auto& [name, d] : {std::pair<const char*, uint64_t>{"qk_head_dim", sp.qk_dim}, {"v_head_dim", s.head_dim}})
    if (kernel_rejects_head_dim(d))
      n.warn("linearize.kernel_head_dim", name,
             fmt::format("{} {}: the authors' GPU kernel (lightning_attn) rejects head dims 1, 2, 4, 8 and 16", name, d));
}

}  // namespace

const char* target_name(LinearizeTarget t) { return t == LinearizeTarget::Hf ? "hf" : "open_lm"; }

double target_norm_eps(const ModelSpec& source, LinearizeTarget target) {
  return target == LinearizeTarget::OpenLm ? kOpenLmNormEps : source.norm_eps;
}

bool kernel_rejects_head_dim(uint64_t d) { return d == 1 || d == 2 || d == 4 || d == 8 || d == 16; }

std::vector<TargetNotice> check_target(const LinearizePlan& p, LinearizeTarget target, const std::filesystem::path& input) {
  Notices n;
  check_source_block(p.source, n);
  check_supra_options(p, target, n);
  if (!n.refusals.empty()) {
    std::string reasons;
    for (const auto& r : n.refusals) reasons += (reasons.empty() ? "" : "; ") + r.message;
    throw bad_input(n.refusals[0].id, {input.string(), {}, {}},
                    std::string("cannot linearize for target ") + target_name(target) + ": " + reasons);
  }
  const double eps = target_norm_eps(p.source, target);
  if (eps != p.source.norm_eps)
    n.warn("linearize.norm_eps", "norm_eps",
           fmt::format("norm_eps: the source has {}, open_lm's trainer builds every norm with {} (create_params "
                       "does not pass the source's eps)", p.source.norm_eps, eps));
  if (const uint64_t tokens = tokenizer_size(input); tokens && tokens != p.source.vocab)
    n.warn("linearize.vocab_padding", "vocab_size",
           fmt::format("vocab_size: the embedding has {} rows, the tokenizer names {} tokens ({}); the trainer's "
                       "vocab_size is the row count", p.source.vocab, tokens,
                       tokens < p.source.vocab ? "padding rows stay as they are" : "ids past the rows cannot be trained"));
  return n.warnings;
}

}  // namespace supra
