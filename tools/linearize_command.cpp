// supra linearize IN OUTDIR [--target open_lm|hf] [--format F] [--init torch-default|identity]
//                 [--qk-dim N] [--decay lightning|retnet|none] [--decay-start X] [--qk-norm]
//                 [--keep-softmax LAYERS] [--recipe FILE.json] [--seed N] [--dry-run] [--json] ...
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "converters/byte_size.hpp"
#include "linearize/linearize.hpp"
#include "schema/error.hpp"
#include "schema/supra_config.hpp"
#include "tools/commands.hpp"
#include "tools/linearize_gap.hpp"
#include "tools/progress_bar.hpp"

namespace supra::cli {
namespace {

struct LinearizeArgs {
  std::string in, out, target = "open_lm", format, init, decay, keep_softmax, recipe, model_config, from_layout;
  std::string max_shard, gap_tokens_file;
  uint64_t gap_tokens = 128;
  bool no_gap = false;
  std::optional<uint64_t> qk_dim, seed;
  std::optional<double> decay_start;
  bool qk_norm = false, dry_run = false, json = false, force = false;
  int threads = 0;
};

// The recipe states the plan: flags that would say it a second time are refused.
LinearizeRecipe recipe_from_args(const LinearizeArgs& a, CLI::App* cmd) {
  if (!a.recipe.empty()) {
    for (const char* flag : {"--init", "--qk-dim", "--decay", "--decay-start", "--qk-norm", "--keep-softmax", "--seed"})
      if (cmd->count(flag))
        throw usage_error("usage.recipe", std::string(flag) + " and --recipe both state the plan; put it in the recipe");
    return read_recipe_file(a.recipe);
  }
  LinearizeRecipe r;
  r.seed = a.seed.value_or(0);
  if (!a.init.empty()) r.init = *feature_init_from_name(a.init);
  r.qk_dim = a.qk_dim;
  if (!a.decay.empty()) r.decay = *supra_decay_from_name(a.decay);
  if (a.decay_start && r.decay != SupraDecay::Lightning)
    throw usage_error("usage.decay-start", "--decay-start applies to --decay lightning only");
  r.decay_start = a.decay_start;
  r.qk_norm = a.qk_norm;
  return r;
}

nlohmann::ordered_json result_json(const LinearizeResult& r, bool dry_run, const std::optional<InitGap>& gap) {
  nlohmann::ordered_json j;
  j["target"] = target_name(r.target);
  j["dry_run"] = dry_run;
  j["layout"] = {{"from", r.source_convention}, {"to", r.target_convention}};
  j["output_format"] = r.output_format;
  j["dtype"] = dtype_name(r.dtype);
  j["source_params"] = r.plan.source_params;
  j["params_added"] = r.plan.params_added;
  j["recipe"] = recipe_to_json(r.plan.recipe);
  auto& layers = j["layers"] = nlohmann::ordered_json::array();
  size_t name_index = 0;
  for (const auto& l : r.plan.layers) {
    nlohmann::ordered_json row{{"layer", l.layer}, {"attention", l.linear ? "linear" : "softmax"},
                               {"params_added", l.params_added}};
    auto& tensors = row["tensors"] = nlohmann::ordered_json::array();
    for (const auto& t : l.tensors)
      tensors.push_back({{"name", r.new_tensor_names[name_index++]}, {"shape", t.shape}, {"numel", t.numel()}});
    layers.push_back(std::move(row));
  }
  auto& warnings = j["warnings"] = nlohmann::ordered_json::array();
  for (const auto& w : r.warnings) warnings.push_back({{"id", w.id}, {"field", w.field}, {"message", w.message}});
  j["files"] = r.write_plan.files;
  j["bytes_out"] = dry_run ? r.write_plan.output_bytes : r.bytes_out;
  j["seconds"] = r.seconds;
  if (!r.trainer_command.empty()) j["trainer_command"] = r.trainer_command;
  j["at_init"] = gap ? init_gap_json(*gap) : nlohmann::ordered_json();
  return j;
}

void print_text(const LinearizeResult& r, const std::string& in, const std::string& out, bool dry_run) {
  const SupraSpec& sp = *r.plan.spec.supra;
  fmt::print("{} {} ({}) -> {} (target {}, {} naming, {})\n", dry_run ? "plan:" : "linearized", in, r.source_convention,
             out, target_name(r.target), r.target_convention, r.output_format);
  fmt::print("  feature width {} per head, decay {}{}, qk_norm {}, seed {}, new tensors in {}\n", sp.qk_dim,
             supra_decay_name(sp.decay), sp.decay_start ? fmt::format(" (start {})", *sp.decay_start) : "",
             sp.qk_norm, r.plan.recipe.seed, dtype_name(r.dtype));
  size_t name_index = 0;
  for (const auto& l : r.plan.layers) {
    fmt::print("  layer {:>3}: {:<7} {:<13} +{} params\n", l.layer, l.linear ? "linear" : "softmax",
               l.linear ? feature_init_name(l.init) : "-", l.params_added);
    if (dry_run)
      for (const auto& t : l.tensors) {
        std::string shape;
        for (uint64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        fmt::print("             {} [{}]\n", r.new_tensor_names[name_index++], shape);
      }
  }
  fmt::print("  parameters: {} source + {} added = {}\n", r.plan.source_params, r.plan.params_added,
             r.plan.source_params + r.plan.params_added);
  fmt::print("  files: {}\n", fmt::join(r.write_plan.files, " "));
  fmt::print("  bytes out: {} ({})\n", dry_run ? r.write_plan.output_bytes : r.bytes_out,
             format_bytes(dry_run ? r.write_plan.output_bytes : r.bytes_out));
  if (!dry_run) fmt::print("  time: {:.2f} s\n", r.seconds);
  if (!r.trainer_command.empty()) fmt::print("\nuptrain with the authors' trainer (see {}/README):\n{}\n", out, r.trainer_command);
}

}  // namespace

void add_linearize_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<LinearizeArgs>();
  CLI::App* cmd = app.add_subcommand("linearize", "Turn a softmax transformer into a SUPRA initialization for uptraining");
  cmd->add_option("input", a->in, "Source checkpoint (any format supra reads: HF folder, .pt, .gguf, ...)")->required();
  cmd->add_option("output", a->out, "Output folder")->required();
  cmd->add_option("--target", a->target, "open_lm (checkpoint.pt + open_lm_config.json for the authors' trainer) "
                                         "or hf (the authors' HF wrapper, model_type openlm)")
      ->check(CLI::IsMember({"open_lm", "hf"}));
  cmd->add_option("--format", a->format, "--target hf: output format (default safetensors)");
  cmd->add_option("--init", a->init, "Feature MLP init: torch-default (nn.Linear's) or identity")
      ->check(CLI::IsMember({"torch-default", "identity"}));
  cmd->add_option("--qk-dim", a->qk_dim, "Feature width per head (default hidden / heads)");
  cmd->add_option("--decay", a->decay, "lightning (default), retnet or none")
      ->check(CLI::IsMember({"lightning", "retnet", "none"}));
  cmd->add_option("--decay-start", a->decay_start, "Lightning decay rate of head 0 (default 2^(-8/heads))");
  cmd->add_flag("--qk-norm", a->qk_norm, "Normalize q and k after the feature MLP (_totrain_q_norm / _totrain_k_norm)");
  cmd->add_option("--keep-softmax", a->keep_softmax, "Layers that keep softmax attention: 0,16 | every:8 | last:2");
  cmd->add_option("--recipe", a->recipe, "A JSON recipe stating all of the above per layer (see --dry-run --json)");
  cmd->add_option("--seed", a->seed, "Seed of the initialization (default 0)");
  cmd->add_option("--model-config", a->model_config, "The source's config (default: next to the input)");
  cmd->add_option("--from-layout", a->from_layout, "The source's naming convention (default: detected)");
  cmd->add_option("--max-shard-size", a->max_shard, "--target hf safetensors: shard size (e.g. 5GB)");
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores)");
  cmd->add_option("--gap-tokens", a->gap_tokens,
                  "Random ids (seed 0) the summary runs both models on (default 128)")
      ->check(CLI::Range(uint64_t(1), uint64_t(1) << 20));
  cmd->add_option("--tokens", a->gap_tokens_file, "Token ids for the summary instead (JSON array or .npy, as validate)");
  cmd->add_flag("--no-gap", a->no_gap,
                "Skip the summary at initialization (it runs the source and the new model: slow on huge models)");
  cmd->add_flag("--dry-run", a->dry_run, "Print the per-layer plan and the parameters added; write nothing");
  cmd->add_flag("--force", a->force, "Overwrite existing output files");
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  cmd->callback([a, cmd, &action] {
    action = [a, cmd] {
      LinearizeOptions o;
      o.recipe = recipe_from_args(*a, cmd);
      o.target = a->target == "hf" ? LinearizeTarget::Hf : LinearizeTarget::OpenLm;
      o.format = a->format;
      o.layout.model_config = a->model_config;
      o.layout.from_layout = a->from_layout;
      o.dry_run = a->dry_run;
      o.write.force = a->force;
      o.write.threads = a->threads > 0 ? a->threads : int(std::max(1u, std::thread::hardware_concurrency()));
      if (!a->max_shard.empty()) o.write.max_shard_size = parse_byte_size(a->max_shard);
      o.keep_softmax = a->keep_softmax;  // resolved against the source's layer count
      std::unique_ptr<ProgressBar> bar;
      o.write.on_bytes = [&](uint64_t n) {
        if (bar) bar->add(n);
      };
      if (!a->dry_run && !a->json)
        o.on_plan = [&](const WritePlan& plan) { bar = std::make_unique<ProgressBar>("linearize", plan.payload_bytes); };
      const LinearizeResult r = linearize_checkpoint(a->in, a->out, o);
      if (bar) bar->finish();
      for (const auto& w : r.warnings) std::fprintf(stderr, "warning [%s] %s\n", w.id.c_str(), w.message.c_str());
      // A dry run reads headers only; the summary would read and run every weight.
      std::optional<InitGap> gap;
      // The output is committed by now: a summary that cannot run (a source
      // the engine does not compute, bad --tokens) is a warning, not a failure.
      if (!a->dry_run && !a->no_gap) try {
          gap = measure_init_gap(a->in, o.layout, r.output, a->gap_tokens_file, a->gap_tokens, o.write.threads);
        } catch (const Error& e) {
          std::fprintf(stderr, "warning [linearize.gap] no summary at initialization: %s\n", e.what());
        }
      if (a->json) {
        std::cout << result_json(r, a->dry_run, gap).dump(2) << "\n";
      } else {
        print_text(r, a->in, a->out, a->dry_run);
        if (gap) std::cout << render_init_gap(*gap);
      }
      return 0;
    };
  });
}

}  // namespace supra::cli
