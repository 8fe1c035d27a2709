#pragma once
// Finding added and special tokens written literally in the text, before
// the rest is normalized and split: Hugging Face scans left to right and
// takes the longest token at the first position where one starts (an
// Aho-Corasick leftmost-longest search), with the lstrip / rstrip /
// single_word flags; llama.cpp takes the longest token first and cuts out
// every occurrence of it, then the next longest.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

struct Segment {
  std::string text;
  std::optional<uint32_t> token;  // set: an added token; unset: plain text still to tokenize
  bool at_start = false;          // plain text that begins at offset 0 of the input
};

class AddedTokenMatcher {
 public:
  // `patterns[i]` is the text that finds `tokens[i]` (its content, or its
  // normalized content for the normalized pass).
  AddedTokenMatcher(std::vector<std::string> patterns, std::vector<const AddedToken*> tokens, AddedTokenSearch search);

  // Splits the plain segments on the tokens; token segments are kept.
  // With parse_special off, special tokens are left in the text.
  void split(std::vector<Segment>& segments, bool parse_special) const;

  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string pattern;
    const AddedToken* token;
  };
  void split_leftmost_longest(const Segment& seg, bool parse_special, std::vector<Segment>& out) const;
  void split_longest_first(std::vector<Segment>& segments, bool parse_special) const;
  const Entry* longest_at(const std::string& text, size_t pos) const;

  std::vector<Entry> entries_;                      // longest pattern first, then lowest id
  std::array<std::vector<uint32_t>, 256> by_first_byte_;  // indices into entries_, in that order
  AddedTokenSearch search_;
};

}  // namespace supra
