#pragma once
// The SRU / SRU++ branch of `logits`, `generate` and `inspect`: models whose
// folder (or --model-config) holds an sru_config.json (validate/sru/).
#include <cstdint>
#include <optional>
#include <string>

#include "tools/model_args.hpp"

namespace supra::cli {

bool is_sru_model(const ModelArgs& a);

struct SruLogitsArgs {
  std::string out;
  std::string input;                // --input X.npy for models without an LM
  std::optional<uint64_t> segment;  // --segment S (0: whole sequence); default: the config's eval
  bool last_only = false;
};
int run_sru_logits(const ModelArgs& a, const SruLogitsArgs& s);
int run_sru_generate(const ModelArgs& a, uint64_t max_new, bool json, std::optional<uint64_t> segment);

// `inspect`: MODEL's checkpoint file; the structure read from the shapes,
// what only the config says (checked against the config when there is one);
// a config skeleton with those fields marked "FILL IN".
bool is_sru_model(const std::string& path, const std::string& model_config);
std::string sru_checkpoint_file(const std::string& path);
void print_sru_structure(const std::string& path, const std::string& model_config);
void write_sru_config_skeleton(const std::string& checkpoint_path, const std::string& out);

}  // namespace supra::cli
