#pragma once
// The merge engine shared by both families: a word is split into characters,
// adjacent symbols are merged by priority until no pair merges, and the
// symbols left are the word's tokens. Hugging Face BPE ranks listed pairs
// (lowest rank first); llama.cpp's SentencePiece tokenizer merges any pair
// whose text is a token, highest score first. Ties go to the leftmost pair
// in both, so one loop serves both rules (TokenizerSpec::merge_rule).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

struct TransparentStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TokenIndex = std::unordered_map<std::string, uint32_t, TransparentStringHash, std::equal_to<>>;

class BpeModel {
 public:
  // Throws bad_input("tokenizer.2xx") when a merge names an id that is not a token.
  explicit BpeModel(const TokenizerSpec& spec);

  // Appends the ids of one pre-tokenized word (valid UTF-8, in vocabulary spelling).
  void encode_word(std::string_view word, std::vector<uint32_t>& out) const;

  std::optional<uint32_t> find(std::string_view text) const {
    auto it = index_.find(text);
    return it == index_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }

 private:
  struct Symbol {
    uint32_t begin, len;  // bytes of the word
    int64_t id;           // -1: not (yet) a token
    int32_t prev, next;
  };
  void initial_symbols(std::string_view word, std::vector<Symbol>& syms) const;
  // Priority and resulting id of merging two adjacent symbols, if they merge.
  bool pair_merge(std::string_view word, const Symbol& l, const Symbol& r, double& key, uint32_t& id) const;
  void emit(std::string_view word, const Symbol& s, std::vector<uint32_t>& out) const;

  const TokenizerSpec& spec_;
  TokenIndex index_;
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> merges_;  // (left << 32 | right) -> (rank, id)
  std::array<int64_t, 256> byte_ids_;  // <0xXX> token of each byte, -1 if none
};

}  // namespace supra
