// supra generate MODEL (--prompt TEXT | --text F | --tokens F) [--max-new N]
//   [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json]
// Greedy decoding with the KV cache unless a sampling flag is given; stops
// at the tokenizer's EOS. Text in: the continuation is streamed to stdout as
// text; ids in: the new ids, one line. --json: ids, text and tokens/s.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "tools/model_args.hpp"
#include "tools/model_tokenizer.hpp"
#include "tools/sru_commands.hpp"

namespace supra::cli {
namespace {

struct GenerateArgs {
  ModelArgs model;
  uint64_t max_new = 16;
  std::optional<double> temperature, top_p;
  std::optional<uint32_t> top_k;
  bool json = false;
  std::optional<uint64_t> segment;  // SRU++ LMs
};

// A tokenizer for text output: required with text input, optional with ids.
std::optional<Tokenizer> output_tokenizer(const GenerateArgs& a) {
  if (has_text_input(a.model)) return load_model_tokenizer(a.model.model);
  try {
    return load_model_tokenizer(a.model.model);
  } catch (const Error&) {
    return std::nullopt;  // ids in, ids out
  }
}

// Sampling when any of --temperature (> 0), --top-k, --top-p is given.
std::optional<validate::SamplingOptions> sampling_of(const GenerateArgs& a) {
  if (a.temperature == 0.0 || (!a.temperature && !a.top_k && !a.top_p)) return std::nullopt;
  validate::SamplingOptions s;
  s.temperature = a.temperature.value_or(1.0);
  s.top_k = a.top_k.value_or(0);
  s.top_p = a.top_p.value_or(1.0);
  s.seed = a.model.seed;
  return s;
}

nlohmann::ordered_json result_json(const std::vector<uint32_t>& prompt, const validate::GenerateResult& r,
                                   const std::optional<Tokenizer>& tok) {
  nlohmann::ordered_json j;
  j["prompt"] = prompt;
  j["new"] = r.ids;
  if (tok) j["text"] = tok->decode(r.ids);
  j["stopped_at_eos"] = r.stopped;
  // Tokens per second of the prompt step and of the one-token steps after it.
  const auto per_s = [](double n, double s) {
    return s > 0 ? nlohmann::json(std::round(n / s * 10) / 10) : nlohmann::json(nullptr);
  };
  j["prompt_tokens_per_s"] = per_s(double(prompt.size()), r.prompt_seconds);
  j["decode_tokens_per_s"] = per_s(double(r.ids.size()) - 1, r.decode_seconds);
  return j;
}

int run_generate(const GenerateArgs& a) {
  const validate::Model model = open_model(a.model);
  const validate::TokenBatch tokens = choose_tokens(a.model, model.spec().vocab, "generate");
  if (tokens.sequences.size() != 1)
    throw usage_error("usage.tokens",
                      "generate takes one prompt, got " + std::to_string(tokens.sequences.size()) + " sequences");
  const std::optional<Tokenizer> tok = output_tokenizer(a);
  const bool text_out = tok && has_text_input(a.model) && !a.json;
  validate::GenerateOptions options;
  options.max_new = a.max_new;
  options.precision = precision_of(a.model);
  options.threads = a.model.threads;
  options.sampling = sampling_of(a);
  if (tok && tok->spec().eos_id) options.stop_ids.push_back(*tok->spec().eos_id);
  std::optional<StreamDecoder> stream;
  if (text_out) {
    stream.emplace(*tok, true, false);
    options.on_token = [&stream](uint32_t id) {
      std::fputs(stream->push(id).c_str(), stdout);
      std::fflush(stdout);
    };
  }
  const validate::GenerateResult r = validate::generate(model, tokens.sequences[0], options);
  if (a.json)
    fmt::print("{}\n", result_json(tokens.sequences[0], r, tok).dump());
  else if (text_out)
    fmt::print("{}\n", stream->finish());
  else
    fmt::print("{}\n", fmt::join(r.ids, " "));
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt: greedy decoding, or sampling on request");
  add_model_options(*cmd, a->model);
  cmd->add_option("--max-new", a->max_new, "New tokens to generate at most (default 16; EOS ends sooner)");
  cmd->add_option("--temperature", a->temperature, "Sample with this temperature (0: greedy, the default)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--top-k", a->top_k, "Sample from the K most probable tokens only");
  cmd->add_option("--top-p", a->top_p, "Sample from the fewest most probable tokens whose mass reaches P")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", a->json, "Print {\"prompt\": [...], \"new\": [...], \"text\", and tokens/s}");
  cmd->add_option("--segment", a->segment, "SRU++ LMs: attention segment (default: the config's eval; 0: unbounded)");
  cmd->callback([a, &action] {
    action = [a] {
      if (is_sru_model(a->model)) return run_sru_generate(a->model, a->max_new, a->json, a->segment);
      return run_generate(*a);
    };
  });
}

}  // namespace supra::cli
