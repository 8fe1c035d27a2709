#pragma once
// --text FILE and --prompt TEXT: text a command runs the model on, turned
// into ids by the model's own tokenizer (BOS/EOS as its config says, special
// tokens written in the text read as those tokens, as Hugging Face does).
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"
#include "validate/inputs.hpp"

namespace supra::cli {

// Adds --text and --prompt (exclusive with each other and with `others`).
void add_text_options(CLI::App& cmd, std::string& text_file, std::optional<std::string>& prompt,
                      const std::vector<CLI::Option*>& others);

// The file's bytes; throws io_error("io.open") naming it.
std::string read_text_file(const std::string& path);

// One sequence: the file's text (when `text_file` is set) or `prompt`, encoded.
// Throws usage_error("usage.tokens") when it encodes to no ids.
validate::TokenBatch text_tokens(const Tokenizer& tokenizer, const std::string& text_file,
                                 const std::optional<std::string>& prompt);

// The text as llama-perplexity tokenizes it: the tokenizer's prefix (BOS)
// and the text, special tokens in it read as plain text, no EOS.
std::vector<uint32_t> perplexity_tokens(const Tokenizer& tokenizer, const std::string& text);
// The id each perplexity window starts with, when the tokenizer adds a BOS.
std::optional<uint32_t> window_bos(const Tokenizer& tokenizer);
// --ctx default: 512, or the model's context length when that is shorter.
uint64_t default_perplexity_ctx(uint64_t context_length);

}  // namespace supra::cli
