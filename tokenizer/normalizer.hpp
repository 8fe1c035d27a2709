#pragma once
// Normalization of a section of text before pre-tokenization: the Hugging
// Face normalizers Prepend, Replace and NFC/NFD/NFKC/NFKD (through ICU), and
// llama.cpp's SentencePiece space handling written as the same two steps
// (Prepend "▁", Replace " " -> "▁").
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

// Applies every step in order. Prepend leaves an empty text empty, as in tokenizers.
void normalize(const std::vector<NormalizerStep>& steps, std::string& text);

// Unicode normalization form "NFC", "NFD", "NFKC" or "NFKD" of valid UTF-8 text.
std::string unicode_normalize(const std::string& text, const std::string& form);

}  // namespace supra
