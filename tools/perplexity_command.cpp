// supra perplexity MODEL --text FILE [--ctx N] [--stride S] [--json]
//   [--precision f32|f64] [--threads N] [--model-config F] [--from-layout L] [--form F]
// Perplexity, bits per token and bits per byte of MODEL on a text file, in
// llama-perplexity's windows (validate/perplexity.hpp).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/commands.hpp"
#include "tools/model_args.hpp"
#include "tools/model_tokenizer.hpp"
#include "tools/text_input.hpp"
#include "validate/perplexity.hpp"

namespace supra::cli {
namespace {

struct PerplexityArgs {
  ModelArgs model;
  std::optional<uint64_t> ctx;
  uint64_t stride = 0;
  bool json = false;
};

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

int run_perplexity(const PerplexityArgs& a) {
  const Tokenizer tok = load_model_tokenizer(a.model.model);
  const validate::Model model = open_model(a.model);
  const std::vector<uint32_t> tokens = perplexity_tokens(tok, read_text_file(a.model.text_file));
  const uint64_t ctx = a.ctx.value_or(default_perplexity_ctx(model.spec().context_length));
  const auto windows = validate::perplexity_windows(tokens, ctx, a.stride, a.stride ? std::nullopt : window_bos(tok));
  validate::PerplexityOptions options;
  options.precision = precision_of(a.model);
  options.threads = a.model.threads;
  options.token_bytes = [&tok](uint32_t id) { return uint64_t(tok.token_bytes(id).size()); };
  const validate::PerplexityResult r = validate::compute_perplexity(model, windows, options);
  if (a.json) {
    nlohmann::ordered_json j;
    j["perplexity"] = r.perplexity();
    j["nll_per_token"] = r.nll / double(r.scored);
    j["bits_per_token"] = r.bits_per_token();
    j["bits_per_byte"] = finite_or_null(r.bits_per_byte());
    j["text_tokens"] = tokens.size();
    j["ctx"] = ctx;
    j["stride"] = a.stride;
    j["windows"] = windows.size();
    j["scored_tokens"] = r.scored;
    j["scored_bytes"] = r.bytes;
    j["window_nll"] = r.window_nll;
    j["seconds"] = r.seconds;
    std::cout << j.dump() << "\n";
    return 0;
  }
  fmt::print("perplexity {:.4f}  ({:.4f} nats = {:.4f} bits per token, {:.4f} bits per byte)\n", r.perplexity(),
             r.nll / double(r.scored), r.bits_per_token(), r.bits_per_byte());
  fmt::print("{}: {} tokens, {} windows of {} ({}), {} tokens ({} bytes) scored, {:.2f} s\n", a.model.text_file,
             tokens.size(), windows.size(), ctx, a.stride ? fmt::format("stride {}", a.stride) : "second halves",
             r.scored, r.bytes, r.seconds);
  return 0;
}

}  // namespace

void add_perplexity_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file, in llama-perplexity's windows");
  cmd->add_option("model", a->model.model, "Model checkpoint (with its tokenizer): folder, .gguf, or weights file")
      ->required();
  cmd->add_option("--text", a->model.text_file, "Text file (UTF-8)")->required();
  cmd->add_option("--ctx", a->ctx, "Window length in tokens (default 512, or the model's context if shorter)");
  cmd->add_option("--stride", a->stride,
                  "Windows every S tokens, each scoring its last S predictions (default: back-to-back windows "
                  "scoring their second half)");
  cmd->add_flag("--json", a->json, "Print the numbers as JSON (with each window's summed negative log-likelihood)");
  cmd->add_option("--precision", a->model.precision, "Activations and accumulation: f32 (default) or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--threads", a->model.threads, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--model-config", a->model.model_config, "Model config if not next to MODEL");
  cmd->add_option("--from-layout", a->model.from_layout, "Naming convention of MODEL (default: detected)");
  cmd->add_option("--form", a->model.form, "SUPRA linear layers: chunked (default), parallel or recurrent")
      ->check(CLI::IsMember({"chunked", "parallel", "recurrent"}));
  cmd->callback([a, &action] { action = [a] { return run_perplexity(*a); }; });
}

}  // namespace supra::cli
