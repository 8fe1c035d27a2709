#pragma once
// The tokenizer of whatever MODEL a command is given: a Hugging Face folder
// (tokenizer.json), a .gguf (its tokenizer.ggml.* keys), or a weights file
// with tokenizer.json beside it. Shared by every command that takes text.
#include <filesystem>

#include "tokenizer/tokenizer.hpp"

namespace supra::cli {

Tokenizer load_model_tokenizer(const std::filesystem::path& model);

}  // namespace supra::cli
