#include "tools/linearize_gap.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "converters/open_model.hpp"
#include "validate/model_parity.hpp"

namespace supra::cli {
namespace {

std::string quoted(const std::string& s) {
  return s.find_first_of(" '\"$\\[]*?") == std::string::npos ? s : "'" + s + "'";
}

std::string validate_command(const std::filesystem::path& source, const LayoutRequest& request,
                             const std::filesystem::path& output, const std::string& tokens_file, uint64_t random) {
  std::string cmd = "supra validate " + quoted(source.string()) + " " + quoted(output.string());
  if (!request.model_config.empty()) cmd += " --model-config " + quoted(request.model_config);
  if (!request.from_layout.empty()) cmd += " --from-layout " + request.from_layout;
  return cmd + (tokens_file.empty() ? fmt::format(" --random-tokens {} --seed 0", random) : " --tokens " + quoted(tokens_file));
}

double json_number(const nlohmann::ordered_json& j) { return j.is_number() ? j.get<double>() : NAN; }

}  // namespace

InitGap measure_init_gap(const std::filesystem::path& source, const LayoutRequest& source_request,
                         const std::filesystem::path& output, const std::string& tokens_file, uint64_t random,
                         int threads) {
  InitGap g;
  const validate::Model soft(open_canonical_model(source, source_request));
  const validate::Model lin(open_canonical_model(output, {}));
  g.tokens = tokens_file.empty() ? validate::random_tokens(random, 0, soft.spec().vocab) : validate::read_tokens(tokens_file);
  g.validate_command = validate_command(source, source_request, output, tokens_file, random);
  g.gap = validate::attention_gap(soft, lin, g.tokens, validate::Precision::F32, threads);
  validate::ModelParityJob job;
  job.a = source;
  job.b = output;
  job.request_a = source_request;
  job.tokens = g.tokens;
  job.threads = threads;
  g.parity = parity_report_json(validate::compare_models(job));
  return g;
}

nlohmann::ordered_json init_gap_json(const InitGap& g) {
  nlohmann::ordered_json j;
  j["tokens"] = g.tokens.source;
  j["rows"] = g.gap.rows;
  j["validate_command"] = g.validate_command;
  j["validate"] = g.parity;
  auto& layers = j["attention_gap"] = nlohmann::ordered_json::array();
  for (const auto& l : g.gap.layers) {
    nlohmann::ordered_json row{{"layer", l.layer}, {"attention", l.linear ? "linear" : "softmax"}};
    if (l.linear) {
      row["out_error"] = l.out_error;
      row["head_error"] = l.head_error;
    }
    layers.push_back(std::move(row));
  }
  return j;
}

std::string render_init_gap(const InitGap& g) {
  std::string out = fmt::format("\nat initialization, on {}:\n", g.tokens.source);
  const auto& logits = g.parity["logits"];
  out += fmt::format("  (a) source vs linearized, as `{}`:\n", g.validate_command);
  if (logits.is_object())
    out += fmt::format("      KLD mean {:.4g} (max {:.4g}), same top-1 {:.1f}%, top-5 overlap {:.1f}%, PPL {:.4g} -> {:.4g}\n",
                       json_number(logits["kld"]["mean"]), json_number(logits["kld"]["max"]),
                       100 * json_number(logits["same_top1"]["value"]), 100 * json_number(logits["top5_overlap"]),
                       json_number(logits["ppl_a"]["value"]), json_number(logits["ppl_b"]["value"]));
  out += "  (b) the gap uptraining has to close: ||linear - softmax|| / ||softmax|| of each layer's attention on\n"
         "      the source's own stream (per head before out_proj; out: the layer after out_proj)\n";
  for (const auto& l : g.gap.layers) {
    if (!l.linear) {
      out += fmt::format("      layer {:>3}: softmax kept\n", l.layer);
      continue;
    }
    const double mean = std::accumulate(l.head_error.begin(), l.head_error.end(), 0.0) / double(l.head_error.size());
    out += fmt::format("      layer {:>3}: out {:.3f}  heads mean {:.3f} min {:.3f} max {:.3f}:", l.layer, l.out_error, mean,
                       *std::min_element(l.head_error.begin(), l.head_error.end()),
                       *std::max_element(l.head_error.begin(), l.head_error.end()));
    for (size_t h = 0; h < l.head_error.size(); ++h)
      out += fmt::format("{}{:.3f}", h % 16 == 0 ? "\n        " : " ", l.head_error[h]);
    out += "\n";
  }
  return out;
}

}  // namespace supra::cli
