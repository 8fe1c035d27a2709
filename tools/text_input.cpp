#include "tools/text_input.hpp"

#include <fstream>
#include <sstream>

#include "schema/error.hpp"

namespace supra::cli {

void add_text_options(CLI::App& cmd, std::string& text_file, std::optional<std::string>& prompt,
                      const std::vector<CLI::Option*>& others) {
  auto* text = cmd.add_option("--text", text_file, "Text file (UTF-8) to run on, tokenized with MODEL's own tokenizer");
  auto* inline_text = cmd.add_option("--prompt", prompt, "Text to run on, tokenized with MODEL's own tokenizer");
  text->excludes(inline_text);
  for (CLI::Option* other : others) {
    text->excludes(other);
    inline_text->excludes(other);
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("io.open", {path, {}, {}}, "cannot open the text file");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw io_error("io.read", {path, {}, {}}, "cannot read the text file");
  return text.str();
}

validate::TokenBatch text_tokens(const Tokenizer& tokenizer, const std::string& text_file,
                                 const std::optional<std::string>& prompt) {
  validate::TokenBatch b;
  b.source = text_file.empty() ? "--prompt" : text_file;
  b.sequences.push_back(tokenizer.encode(text_file.empty() ? prompt.value_or("") : read_text_file(text_file)));
  if (b.sequences[0].empty())
    throw usage_error("usage.tokens", b.source + " tokenizes to no ids (empty text, and the tokenizer adds no BOS)");
  return b;
}

std::vector<uint32_t> perplexity_tokens(const Tokenizer& tokenizer, const std::string& text) {
  EncodeOptions plain;
  plain.add_special = false;
  plain.parse_special = false;
  std::vector<uint32_t> ids = tokenizer.spec().prefix_ids;
  const std::vector<uint32_t> body = tokenizer.encode(text, plain);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::optional<uint32_t> window_bos(const Tokenizer& tokenizer) {
  const TokenizerSpec& spec = tokenizer.spec();
  if (spec.bos_id && !spec.prefix_ids.empty() && spec.prefix_ids.front() == *spec.bos_id) return spec.bos_id;
  return std::nullopt;
}

uint64_t default_perplexity_ctx(uint64_t context_length) {
  constexpr uint64_t kDefaultCtx = 512;
  return context_length > 0 && context_length < kDefaultCtx ? context_length : kDefaultCtx;
}

}  // namespace supra::cli
