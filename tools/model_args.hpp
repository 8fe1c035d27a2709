#pragma once
// Options every command that runs a model's forward pass shares: which
// model (and how to read its config and names), which tokens, precision
// and threads.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "validate/evaluate.hpp"
#include "validate/inputs.hpp"
#include "validate/model.hpp"

namespace supra::cli {

struct ModelArgs {
  std::string model, model_config, from_layout;
  std::string tokens;
  std::string text_file;  // text, tokenized with MODEL's own tokenizer
  std::optional<std::string> prompt;
  std::optional<uint64_t> random_tokens;
  uint64_t seed = 0;
  std::string precision = "f32";
  std::string form = "chunked";  // SUPRA linear layers (validate/supra_attention.hpp)
  int threads = 0;
};

// Adds MODEL, --model-config, --from-layout, --tokens, --random-tokens,
// --text, --prompt, --seed, --precision, --threads and --form to `cmd`.
void add_model_options(CLI::App& cmd, ModelArgs& a);

validate::Model open_model(const ModelArgs& a);
validate::Precision precision_of(const ModelArgs& a);
// The tokens asked for (--text / --prompt through MODEL's tokenizer); with
// none of --tokens, --random-tokens, --text, --prompt, 16 random ids with
// --seed, announced on stderr by `command`.
validate::TokenBatch choose_tokens(const ModelArgs& a, uint64_t vocab, const std::string& command);
bool has_text_input(const ModelArgs& a);

}  // namespace supra::cli
