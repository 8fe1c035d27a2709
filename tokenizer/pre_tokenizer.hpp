#pragma once
// Pre-tokenization: cutting a normalized section of text into the words the
// merge engine sees, as the Hugging Face pre-tokenizers do (Split with its
// five delimiter behaviors, ByteLevel, Metaspace; Digits is a \p{N} Split).
// llama.cpp's regex pre-tokenizers are the same Split(Isolated) steps
// followed by the byte-level map.
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the whole input (Metaspace prepend_scheme "first")
};

// Runs every step over every piece, in order; empty pieces are dropped.
void pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::vector<Piece>& pieces);

// One Split step on one piece (exposed for tests).
void split_piece(const Piece& piece, const SplitRegex& regex, SplitBehavior behavior, bool invert,
                 std::vector<Piece>& out);

}  // namespace supra
