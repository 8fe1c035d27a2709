// supra inspect PATH [--stats] [--json]
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "converters/byte_size.hpp"
#include "converters/inspect_report.hpp"
#include "tools/commands.hpp"
#include "tools/sru_commands.hpp"
#include "tools/escape_text.hpp"

namespace supra::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool stats = false;
  bool json = false;
  std::string key;
  bool strip_module = false;
  std::string model_config, emit_sru_config;
};

std::string stat_cell(const nlohmann::ordered_json& v) {
  return v.is_null() ? "-" : fmt::format("{:.6g}", v.get<double>());
}

// Metadata text on one line: a newline in an HDF5 attribute must not fake a row.
std::string one_line(const std::string& s) { return escape_control_chars(s); }

void print_text(const nlohmann::ordered_json& r, bool stats) {
  fmt::print("path:       {}\n", r["path"].get<std::string>());
  fmt::print("format:     {} ({} file{})\n", r["format"].get<std::string>(), r["files"].size(),
             r["files"].size() == 1 ? "" : "s");
  fmt::print("tensors:    {}\n", r["tensor_count"].get<uint64_t>());
  fmt::print("parameters: {}\n", r["parameters"].get<uint64_t>());
  fmt::print("bytes:      {} ({})\n", r["bytes"].get<uint64_t>(), format_bytes(r["bytes"].get<uint64_t>()));
  std::string dtypes;
  for (const auto& [k, v] : r["dtypes"].items()) dtypes += fmt::format("{}{}: {}", dtypes.empty() ? "" : ", ", k, v.get<uint64_t>());
  fmt::print("dtypes:     {}\n", dtypes.empty() ? "-" : dtypes);
  if (r.contains("model")) {
    const auto& m = r["model"];
    fmt::print("model:      {} ({} naming), {} layers, {} heads ({} kv)\n", m["architecture"].get<std::string>(),
               m["convention"].get<std::string>(), m["layers"].get<uint64_t>(), m["heads"].get<uint64_t>(),
               m["kv_heads"].get<uint64_t>());
    if (m.contains("supra"))
      fmt::print("SUPRA:      {} of {} layers linear, qk_dim {}, decay {}, qk_norm {}\n",
                 m["supra"]["linear_layers"].get<uint64_t>(), m["layers"].get<uint64_t>(),
                 m["supra"]["qk_dim"].get<uint64_t>(), m["supra"]["decay"].get<std::string>(),
                 m["supra"]["qk_norm"].get<bool>());
  }
  if (!r["metadata"].empty()) {
    fmt::print("metadata:\n");
    for (const auto& [k, v] : r["metadata"].items()) {
      std::string s = one_line(v.get<std::string>());
      if (s.size() > 100) s = s.substr(0, 97) + "...";
      fmt::print("  {} = {}\n", k, s);
    }
  }
  size_t name_w = 4;
  for (const auto& t : r["tensors"]) name_w = std::max(name_w, t["name"].get<std::string>().size());
  fmt::print("\n{:<{}}  {:<7} {:<20} {:>12}", "NAME", name_w, "DTYPE", "SHAPE", "BYTES");
  if (stats) fmt::print("  {:>12} {:>12} {:>12} {:>12} {:>6} {:>6}", "MIN", "MAX", "MEAN", "STD", "NAN", "INF");
  fmt::print("\n");
  for (const auto& t : r["tensors"]) {
    std::string shape = "[";
    for (size_t i = 0; i < t["shape"].size(); ++i) shape += (i ? ", " : "") + std::to_string(t["shape"][i].get<uint64_t>());
    shape += "]";
    fmt::print("{:<{}}  {:<7} {:<20} {:>12}", t["name"].get<std::string>(), name_w, t["dtype"].get<std::string>(),
               shape, t["bytes"].get<uint64_t>());
    if (stats && t["stats"].is_null()) {
      fmt::print("  (no dequantizer for {}: no statistics)", t["dtype"].get<std::string>());
    } else if (stats) {
      const auto& s = t["stats"];
      fmt::print("  {:>12} {:>12} {:>12} {:>12} {:>6} {:>6}", stat_cell(s["min"]), stat_cell(s["max"]),
                 stat_cell(s["mean"]), stat_cell(s["std"]), s["nan"].get<uint64_t>(), s["inf"].get<uint64_t>());
    }
    fmt::print("\n");
  }
  if (!r["skipped"].empty()) fmt::print("\nskipped (no tensor supra reads):\n");
  for (const auto& e : r["skipped"])
    fmt::print("  {}  {}: {}\n", one_line(e["name"].get<std::string>()), e["type"].get<std::string>(),
               e["why"].get<std::string>());
  std::set<std::string> undecodable;
  for (const auto& t : r["tensors"])
    if (t.contains("reads_as") && t["reads_as"].is_null()) undecodable.insert(t["dtype"].get<std::string>());
  for (const std::string& type : undecodable)
    fmt::print("note: supra has no dequantizer for {}: such tensors are copied as they are to GGUF output, "
               "and refused (gguf.127) by other outputs\n", type);
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show what a checkpoint holds: format, dtypes, shapes, metadata");
  cmd->add_option("path", args->path, "Checkpoint file or folder")->required();
  cmd->add_flag("--stats", args->stats, "Add min, max, mean, std and NaN/inf counts per tensor (reads all data)");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->add_option("--key", args->key, "Nested dict key holding the tensors (PyTorch checkpoints)");
  cmd->add_flag("--strip-module-prefix", args->strip_module, "Drop a common 'module.' prefix from names");
  cmd->add_option("--model-config", args->model_config, "SRU / SRU++: the sru_config.json if not beside the model");
  cmd->add_option("--emit-sru-config", args->emit_sru_config, "SRU / SRU++ state dict: write a config skeleton here");
  cmd->callback([args, &action] {
    action = [args] {
      if (!args->emit_sru_config.empty()) return write_sru_config_skeleton(args->path, args->emit_sru_config), 0;
      const bool sru = is_sru_model(args->path, args->model_config);
      InspectOptions options;
      options.stats = args->stats;
      options.read.key = args->key;
      options.read.strip_module_prefix = args->strip_module;
      const auto report = inspect_checkpoint(sru ? sru_checkpoint_file(args->path) : args->path, options);
      if (args->json)
        // Names and metadata come from the file: invalid UTF-8 is shown as U+FFFD, not a crash.
        std::cout << report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
      else
        print_text(report, args->stats);
      if (sru && !args->json) print_sru_structure(args->path, args->model_config);
      return 0;
    };
  });
}

}  // namespace supra::cli
