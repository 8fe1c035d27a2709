// The SRU / SRU++ part of `supra inspect`.
#include <fmt/format.h>

#include <fstream>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "schema/sru/infer.hpp"
#include "tools/sru_commands.hpp"
#include "validate/sru/model.hpp"

namespace supra::cli {

namespace {

Checkpoint read_any(const std::string& file) { return detect_input_format(file).read(file, {}); }

}  // namespace

bool is_sru_model(const std::string& path, const std::string& model_config) {
  return validate::sru::is_sru_model(path, model_config);
}

std::string sru_checkpoint_file(const std::string& path) { return validate::sru::checkpoint_path(path).string(); }

void print_sru_structure(const std::string& path, const std::string& model_config) {
  const std::string file = sru_checkpoint_file(path);
  const sru::Inferred s = sru::infer_structure(read_any(file), file);
  fmt::print("\n{} (from the shapes): {} layers, input_size {}, output {} (= hidden_size x directions){}\n",
             s.kind == sru::Kind::Sru ? "SRU" : "SRU++", s.layers.size(), s.input_size, s.output_size,
             s.lm ? fmt::format(", enwik8 LM: vocab {}, emb {}", s.lm->vocab_size, s.lm->emb_dim) : "");
  for (size_t l = 0; l < s.layers.size(); ++l) {
    const auto& L = s.layers[l];
    fmt::print("  layer {}: {}, n_in {}, k {}, {} {}, transform LN {}, cell LN {}\n", l,
               s.kind == sru::Kind::Sru ? "SRU" : L.attention ? "attention" : "projected linear", L.n_in, L.k,
               s.kind == sru::Kind::Sru ? "projection" : "proj_size", L.projection, L.transform_norm ? "yes" : "no",
               L.cell_norm ? "yes" : "no");
  }
  const std::string config = validate::sru::config_path(path, model_config).string();
  std::error_code ec;
  if (!std::filesystem::exists(config, ec)) {
    fmt::print("only a config can say: bidirectional, num_heads, normalize_after, rescale, has_skip_term, "
               "use_tanh, eval segment (supra inspect {} --emit-sru-config sru_config.json)\n", file);
    return;
  }
  const validate::sru::Model m = validate::sru::open_model(path, model_config);  // strict check of every key
  const auto& c = m.config;
  fmt::print("from {} (matches the state dict strictly): hidden_size {}, bidirectional {}, num_heads {}, "
             "layer_norm {} (normalize_after {}), rescale {}{}\n",
             config, c.hidden_size, c.bidirectional, c.kind == sru::Kind::Srupp ? std::to_string(c.num_heads) : "-",
             c.layer_norm, c.normalize_after, c.rescale,
             c.eval ? fmt::format(", eval segment {} same_length {}", c.eval->segment, c.eval->same_length) : "");
}

void write_sru_config_skeleton(const std::string& checkpoint_path, const std::string& out) {
  const std::string file = sru_checkpoint_file(checkpoint_path);
  const std::string text = sru::config_skeleton(sru::infer_structure(read_any(file), file));
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  if (!(o << text)) throw io_error("sru.403", {out, {}, {}}, "cannot write the config skeleton");
  fmt::print("wrote {}: replace every \"FILL IN\" before use\n", out);
}

}  // namespace supra::cli
