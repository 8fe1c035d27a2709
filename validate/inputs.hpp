#pragma once
// Token ids for the forward pass: read from a file the user gives (a JSON
// array of ids, a JSON list of equal-length arrays, an .npy of integers,
// 1-D or 2-D), or drawn at random with a seed, so runs can be repeated.
#include <cstdint>
#include <string>
#include <vector>

namespace supra::validate {

struct TokenBatch {
  std::vector<std::vector<uint32_t>> sequences;  // all of one length
  bool batched = false;   // given as a list of sequences: outputs get a leading [B] axis
  std::string source;     // the file, or a description ("16 random ids, seed 0")
};

// `what` is a path to a .json or .npy file, or inline JSON text ("[1, 2, 3]");
// a JSON object with "ids" (what `supra tokenize --json` prints) gives those.
// Throws bad_input(tokens.1xx) naming the file and the offending entry.
TokenBatch read_tokens(const std::string& what);

// `count` ids drawn uniformly below `vocab` with mt19937_64(seed) (the
// standard fixes its output sequence, so the ids are the same everywhere).
TokenBatch random_tokens(uint64_t count, uint64_t seed, uint64_t vocab);

// The ids widened to int64_t, the form the parity metrics take (TokenSequences).
std::vector<std::vector<int64_t>> as_token_sequences(const TokenBatch& batch);

// Throws bad_input(tokens.105) naming the first id >= vocab, its sequence and position.
void check_token_range(const TokenBatch& batch, uint64_t vocab);

}  // namespace supra::validate
