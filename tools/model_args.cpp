#include "tools/model_args.hpp"

#include <fmt/format.h>

#include "converters/open_model.hpp"
#include "schema/error.hpp"
#include "tools/model_tokenizer.hpp"
#include "tools/text_input.hpp"

namespace supra::cli {

namespace {
constexpr uint64_t kDefaultTokenCount = 16;
}

void add_model_options(CLI::App& cmd, ModelArgs& a) {
  cmd.add_option("model", a.model, "Model checkpoint: file or folder, any format and naming convention")->required();
  cmd.add_option("--tokens", a.tokens,
                 "Token ids: a .json file with an array of ids or a list of equal-length arrays, an .npy of "
                 "integers, or inline JSON such as '[1, 2, 3]'");
  auto* random = cmd.add_option("--random-tokens", a.random_tokens, "Draw this many random ids instead (see --seed)");
  random->excludes(cmd.get_option("--tokens"));
  add_text_options(cmd, a.text_file, a.prompt, {cmd.get_option("--tokens"), random});
  cmd.add_option("--seed", a.seed, "Seed of the random ids, and of sampling in generate (default 0)");
  cmd.add_option("--precision", a.precision, "Activations and accumulation: f32 (default) or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  cmd.add_option("--threads", a.threads, "Worker threads (default: all cores; results do not depend on it)")
      ->check(CLI::Range(0, 1024));
  cmd.add_option("--model-config", a.model_config, "Model config (config.json, params.json, ...) if not next to MODEL");
  cmd.add_option("--from-layout", a.from_layout, "Naming convention of MODEL (default: detected from tensor names)");
  cmd.add_option("--form", a.form,
                 "SUPRA linear layers: chunked (default), parallel (T x T decay matrix) or recurrent (token by token)")
      ->check(CLI::IsMember({"chunked", "parallel", "recurrent"}));
}

validate::Model open_model(const ModelArgs& a) {
  LayoutRequest request;
  request.model_config = a.model_config;
  request.from_layout = a.from_layout;
  validate::Model model(open_canonical_model(a.model, request));
  model.supra_form = a.form == "parallel"    ? validate::SupraForm::Parallel
                     : a.form == "recurrent" ? validate::SupraForm::Recurrent
                                             : validate::SupraForm::Chunked;
  return model;
}

validate::Precision precision_of(const ModelArgs& a) {
  return a.precision == "f64" ? validate::Precision::F64 : validate::Precision::F32;
}

validate::TokenBatch choose_tokens(const ModelArgs& a, uint64_t vocab, const std::string& command) {
  if (!a.tokens.empty()) return validate::read_tokens(a.tokens);
  if (has_text_input(a)) return text_tokens(load_model_tokenizer(a.model), a.text_file, a.prompt);
  if (a.random_tokens) return validate::random_tokens(*a.random_tokens, a.seed, vocab);
  validate::TokenBatch b = validate::random_tokens(kDefaultTokenCount, a.seed, vocab);
  fmt::print(stderr, "supra {}: no --tokens given; using {}\n", command, b.source);
  return b;
}

bool has_text_input(const ModelArgs& a) { return !a.text_file.empty() || a.prompt.has_value(); }

}  // namespace supra::cli
