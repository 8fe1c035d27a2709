// supra generate MODEL [--tokens F] [--max-new N] [--json]: greedy decoding
// with the KV cache; prints the new token ids.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "tools/model_args.hpp"
#include "tools/sru_commands.hpp"

namespace supra::cli {

void add_generate_command(CLI::App& app, Action& action) {
  struct Args {
    ModelArgs model;
    uint64_t max_new = 16;
    bool json = false;
    std::optional<uint64_t> segment;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("generate", "Greedy decoding: print the ids the model continues the prompt with");
  add_model_options(*cmd, a->model);
  cmd->add_option("--max-new", a->max_new, "New tokens to generate (default 16)");
  cmd->add_flag("--json", a->json, "Print {\"prompt\": [...], \"new\": [...], and tokens/s}");
  cmd->add_option("--segment", a->segment, "SRU++ LMs: attention segment (default: the config's eval; 0: unbounded)");
  cmd->callback([a, &action] {
    action = [a] {
      if (is_sru_model(a->model)) return run_sru_generate(a->model, a->max_new, a->json, a->segment);
      const validate::Model model = open_model(a->model);
      const validate::TokenBatch tokens = choose_tokens(a->model, model.spec().vocab, "generate");
      if (tokens.sequences.size() != 1)
        throw usage_error("usage.tokens", "generate takes one prompt, got " + std::to_string(tokens.sequences.size()) +
                                              " sequences");
      validate::GenerateOptions options;
      options.max_new = a->max_new;
      options.precision = precision_of(a->model);
      options.threads = a->model.threads;
      const validate::GenerateResult r = validate::generate_greedy(model, tokens.sequences[0], options);
      if (a->json) {
        nlohmann::ordered_json j;
        j["prompt"] = tokens.sequences[0];
        j["new"] = r.ids;
        // Tokens per second of the prompt step and of the one-token steps after it.
        const auto per_s = [](double n, double s) { return s > 0 ? nlohmann::json(std::round(n / s * 10) / 10) : nlohmann::json(nullptr); };
        j["prompt_tokens_per_s"] = per_s(double(tokens.sequences[0].size()), r.prompt_seconds);
        j["decode_tokens_per_s"] = per_s(double(r.ids.size()) - 1, r.decode_seconds);
        fmt::print("{}\n", j.dump());
      } else {
        fmt::print("{}\n", fmt::join(r.ids, " "));
      }
      return 0;
    };
  });
}

}  // namespace supra::cli
