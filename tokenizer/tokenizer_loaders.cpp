// The Tokenizer constructors that read files or GGUF keys.
#include "schema/error.hpp"
#include "tokenizer/gguf_tokenizer_reader.hpp"
#include "tokenizer/hf_tokenizer_reader.hpp"
#include "tokenizer/tokenizer.hpp"

namespace supra {

Tokenizer Tokenizer::from_model_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto tok_path = dir / "tokenizer.json";
  if (!std::filesystem::is_regular_file(tok_path, ec))
    throw bad_input("tokenizer.200", {dir.string(), {}, {}}, "no tokenizer.json in this folder");
  const auto cfg_path = dir / "tokenizer_config.json";
  const nlohmann::json cfg =
      std::filesystem::is_regular_file(cfg_path, ec) ? read_tokenizer_json_file(cfg_path) : nlohmann::json::object();
  return from_hf_json(read_tokenizer_json_file(tok_path), cfg, tok_path.string());
}

Tokenizer Tokenizer::from_hf_json(const nlohmann::json& tokenizer_json, const nlohmann::json& tokenizer_config,
                                  const std::string& source) {
  return Tokenizer(tokenizer_spec_from_hf(tokenizer_json, tokenizer_config, source));
}

Tokenizer Tokenizer::from_gguf_metadata(const nlohmann::ordered_json& kvs, const std::string& source) {
  return Tokenizer(tokenizer_spec_from_gguf(kvs, source));
}

}  // namespace supra
