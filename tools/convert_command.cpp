// supra convert IN OUT [--dtype T] [--only RE] [--exclude RE] [--max-shard-size S]
//                      [--threads N] [--dry-run] [--force] [--json]
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "converters/byte_size.hpp"
#include "converters/convert.hpp"
#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "tools/progress_bar.hpp"

namespace supra::cli {
namespace {

struct ConvertArgs {
  std::string in, out, dtype, only, exclude, max_shard, format, key, torch_wrap, quantize;
  std::string layout, from_layout, model_config;
  int threads = 0;
  std::optional<uint64_t> torch_epoch;
  bool dry_run = false, force = false, json = false, strip_module = false, strict = false, verbose = false;
};

// One line each on stderr: what was left out and why (--strict makes it an error).
void warn_skipped(const ConvertResult& r) {
  for (const auto& e : r.skipped)
    fmt::print(stderr, "warning: skipped '{}' ({}): {}\n", e.name, e.type, e.why);
}

nlohmann::ordered_json result_json(const ConvertResult& r, bool dry_run) {
  nlohmann::ordered_json j;
  j["input_format"] = r.input_format;
  j["output_format"] = r.output_format;
  j["dry_run"] = dry_run;
  if (!r.to_convention.empty()) j["layout"] = {{"from", r.from_convention}, {"to", r.to_convention}};
  j["tensors"] = r.tensors;
  j["bytes_in"] = r.bytes_in;
  j["bytes_out"] = dry_run ? r.plan.output_bytes : r.bytes_out;
  j["seconds"] = r.seconds;
  j["files"] = r.plan.files;
  j["predicted_peak_memory_bytes"] = r.plan.peak_memory_bytes;
  auto& skipped = j["skipped"] = nlohmann::ordered_json::array();
  for (const auto& e : r.skipped) skipped.push_back({{"name", e.name}, {"type", e.type}, {"why", e.why}});
  j["dropped_metadata"] = r.dropped_metadata;
  auto& overflow = j["cast_overflow"] = nlohmann::ordered_json::object();
  for (const auto& [name, s] : r.report.cast_stats)
    if (s.overflow) overflow[name] = s.overflow;
  auto& underflow = j["cast_underflow"] = nlohmann::ordered_json::object();
  for (const auto& [name, s] : r.report.cast_stats)
    if (s.underflow) underflow[name] = s.underflow;
  if (dry_run) {
    auto& tensors = j["plan"] = nlohmann::ordered_json::array();
    for (const auto& t : r.plan.tensors)
      tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                         {"bytes", t.nbytes}, {"file", t.file}, {"offset", t.offset}});
  }
  return j;
}

void print_plan(const ConvertResult& r) {
  fmt::print("plan: {} -> {}, {} tensors into {} file(s)\n", r.input_format, r.output_format, r.tensors,
             r.plan.files.size());
  for (const auto& t : r.plan.tensors) {
    std::string shape = "[";
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    fmt::print("  {}  {}  {}  {} bytes  -> {} @ {}\n", t.name, dtype_name(t.dtype), shape + "]", t.nbytes, t.file,
               t.offset);
  }
  fmt::print("files: ");
  for (const auto& f : r.plan.files) fmt::print("{} ", f);
  fmt::print("\noutput bytes: {} ({})\npredicted peak memory: {}\n", r.plan.output_bytes,
             format_bytes(r.plan.output_bytes), format_bytes(r.plan.peak_memory_bytes));
}

// Overflow (the dangerous one) for every tensor; underflow of tiny values is
// normal in a bf16 -> f16 cast and touches hundreds of tensors of a 7B model,
// so only the worst few unless --verbose (--json has them all).
void print_cast_tensors(const std::map<std::string, CastStats>& stats, bool verbose) {
  constexpr size_t kWorstUnderflow = 5;
  std::vector<std::pair<std::string, CastStats>> under_only;
  size_t with_overflow = 0;
  for (const auto& [name, s] : stats) {
    if (s.overflow) {
      if (!with_overflow++) fmt::print("  overflow in:\n");
      fmt::print("    {}: {} overflow, {} underflow\n", name, s.overflow, s.underflow);
    } else if (s.underflow) {
      under_only.emplace_back(name, s);
    }
  }
  if (under_only.empty()) return;
  std::stable_sort(under_only.begin(), under_only.end(),
                   [](const auto& a, const auto& b) { return a.second.underflow > b.second.underflow; });
  const size_t shown = verbose ? under_only.size() : std::min(under_only.size(), kWorstUnderflow);
  if (shown == under_only.size())
    fmt::print("  underflow only, in:\n");
  else
    fmt::print("  underflow only, in {} tensors; the {} worst (--verbose or --json for all):\n", under_only.size(),
               shown);
  for (size_t i = 0; i < shown; ++i)
    fmt::print("    {}: {} overflow, {} underflow\n", under_only[i].first, 0, under_only[i].second.underflow);
}

void print_summary(const ConvertResult& r, const std::string& in, const std::string& out, bool verbose) {
  const double gbps = r.seconds > 0 ? double(r.bytes_in) / r.seconds / 1e9 : 0;
  fmt::print("converted {} ({}) -> {} ({})\n", in, r.input_format, out, r.output_format);
  if (!r.to_convention.empty()) fmt::print("  layout:    {} -> {}\n", r.from_convention, r.to_convention);
  if (!r.dropped_metadata.empty()) {
    std::string keys;
    for (size_t i = 0; i < r.dropped_metadata.size() && i < 6; ++i) keys += (i ? ", " : "") + r.dropped_metadata[i];
    if (r.dropped_metadata.size() > 6) keys += fmt::format(", ... ({} in all)", r.dropped_metadata.size());
    fmt::print("  dropped:   GGUF keys with no string form (arrays, strings over 1 MiB): {}\n", keys);
  }
  fmt::print("  tensors:   {}\n  bytes in:  {} ({})\n  bytes out: {} ({})\n  time:      {:.2f} s ({:.2f} GB/s)\n",
             r.tensors, r.bytes_in, format_bytes(r.bytes_in), r.bytes_out, format_bytes(r.bytes_out), r.seconds, gbps);
  uint64_t overflow = 0, underflow = 0;
  for (const auto& [name, s] : r.report.cast_stats) {
    overflow += s.overflow;
    underflow += s.underflow;
  }
  if (overflow == 0 && underflow == 0) {
    fmt::print("  cast:      no overflow, no underflow\n");
    return;
  }
  fmt::print("  cast:      {} values overflowed to inf/NaN, {} nonzero values flushed to zero\n", overflow, underflow);
  print_cast_tensors(r.report.cast_stats, verbose);
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a checkpoint to another format and/or dtype, streaming");
  cmd->add_option("input", a->in, "Input checkpoint file or folder")->required();
  cmd->add_option("output", a->out, "Output file, or folder (Hugging Face style)")->required();
  cmd->add_option("--dtype", a->dtype, "Cast floating-point tensors: f32, f16, bf16, f64, f8_e4m3, f8_e5m2");
  cmd->add_option("--only", a->only, "Keep only tensors whose name matches this regex");
  cmd->add_option("--exclude", a->exclude, "Drop tensors whose name matches this regex");
  cmd->add_option("--max-shard-size", a->max_shard, "Split the output into shards of at most this size (e.g. 5GB)");
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores)");
  cmd->add_option("--format", a->format, "Output format (default: from the output name)");
  cmd->add_option("--key", a->key, "Nested dict key holding the tensors (PyTorch checkpoints)");
  cmd->add_option("--torch-wrap", a->torch_wrap, "PyTorch output: wrap the state dict under this key");
  cmd->add_option("--torch-epoch", a->torch_epoch,
                  "PyTorch output with --torch-wrap: store \"epoch\": N beside it (open_lm's loader unwraps "
                  "state_dict only then; without it --load-not-strict loads nothing)");
  cmd->add_option("--quantize", a->quantize, "GGUF output: quantize 2-D float weights (q8_0); 1-D tensors stay f32")
      ->check(CLI::IsMember({"q8_0"}));
  cmd->add_option("--layout", a->layout, "Re-lay tensors out for: hf, meta, gguf, open_lm (a .gguf output implies gguf); none keeps the names; srupp / sru: keep the SRU authors' names, checked against sru_config.json");
  cmd->add_option("--from-layout", a->from_layout, "Source naming convention (default: detected from tensor names)");
  cmd->add_option("--model-config", a->model_config,
                  "Model config (HF config.json, Meta params.json, open_lm JSON); default: next to the input");
  cmd->add_flag("--strip-module-prefix", a->strip_module, "Drop a common 'module.' prefix from names");
  cmd->add_flag("--dry-run", a->dry_run, "Print the plan (tensors, shards, offsets, peak memory) and write nothing");
  cmd->add_flag("--force", a->force, "Overwrite existing output files");
  cmd->add_flag("--json", a->json, "Print the summary as JSON");
  cmd->add_flag("--verbose", a->verbose, "List every tensor that lost values in the cast (default: the worst few)");
  cmd->add_flag("--strict", a->strict, "Fail on an entry that is no tensor supra reads, instead of skipping it");
  cmd->callback([a, &action] {
    action = [a] {
      ConvertOptions options;
      if (!a->dtype.empty()) {
        options.dtype = dtype_from_user(a->dtype);
        if (!options.dtype) throw usage_error("usage.dtype", "unknown --dtype '" + a->dtype + "'");
      }
      options.only_regex = a->only;
      options.exclude_regex = a->exclude;
      options.output_format = a->format;
      options.dry_run = a->dry_run;
      options.strict = a->strict;
      options.read.key = a->key;
      options.layout = {a->layout, a->from_layout, a->model_config};
      options.read.strip_module_prefix = a->strip_module;
      options.write.force = a->force;
      options.write.torch_wrap = a->torch_wrap;
      if (a->torch_epoch && a->torch_wrap.empty())
        throw usage_error("usage.torch-epoch", "--torch-epoch needs --torch-wrap (the dict the epoch sits in)");
      options.write.torch_epoch = a->torch_epoch;
      options.write.quantize = a->quantize;
      options.write.threads = a->threads > 0 ? a->threads : int(std::max(1u, std::thread::hardware_concurrency()));
      if (!a->max_shard.empty()) options.write.max_shard_size = parse_byte_size(a->max_shard);
      // The bar's total is only known after the plan; it starts at zero width.
      std::unique_ptr<ProgressBar> bar;
      options.write.on_bytes = [&](uint64_t n) {
        if (bar) bar->add(n);
      };
      if (!a->dry_run)
        options.on_plan = [&](const WritePlan& plan) { bar = std::make_unique<ProgressBar>("convert", plan.payload_bytes); };
      const ConvertResult r = convert_checkpoint(a->in, a->out, options);
      if (bar) bar->finish();
      warn_skipped(r);
      if (a->json)
        std::cout << result_json(r, a->dry_run).dump(2) << "\n";
      else if (a->dry_run)
        print_plan(r);
      else
        print_summary(r, a->in, a->out, a->verbose);
      return 0;
    };
  });
}

}  // namespace supra::cli
