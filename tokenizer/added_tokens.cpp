#include "tokenizer/added_tokens.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <cctype>

#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

// Oniguruma's \w and \s as the Rust regex crate has them (Unicode).
bool is_word_char(char32_t cp) {
  if (u_hasBinaryProperty(UChar32(cp), UCHAR_ALPHABETIC) || u_hasBinaryProperty(UChar32(cp), UCHAR_JOIN_CONTROL))
    return true;
  const int8_t t = u_charType(UChar32(cp));
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK ||
         t == U_DECIMAL_DIGIT_NUMBER || t == U_CONNECTOR_PUNCTUATION;
}
bool is_space(char32_t cp) { return u_hasBinaryProperty(UChar32(cp), UCHAR_WHITE_SPACE); }

// The code point that ends text[0, end) (end > 0).
char32_t code_point_before(const std::string& text, size_t end, size_t& start) {
  start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t cp = 0;
  decode_utf8(text, start, cp);
  return cp;
}

// Start of the run of white space that ends at `end`.
size_t space_run_before(const std::string& text, size_t end) {
  while (end > 0) {
    size_t start = 0;
    if (!is_space(code_point_before(text, end, start))) break;
    end = start;
  }
  return end;
}
size_t space_run_after(const std::string& text, size_t begin) {
  while (begin < text.size()) {
    char32_t cp = 0;
    const size_t n = decode_utf8(text, begin, cp);
    if (n == 0 || !is_space(cp)) break;
    begin += n;
  }
  return begin;
}

bool word_char_before(const std::string& text, size_t pos) {
  size_t start = 0;
  return pos > 0 && is_word_char(code_point_before(text, pos, start));
}
bool word_char_after(const std::string& text, size_t pos) {
  char32_t cp = 0;
  return pos < text.size() && decode_utf8(text, pos, cp) && is_word_char(cp);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<std::string> patterns, std::vector<const AddedToken*> tokens,
                                     AddedTokenSearch search)
    : search_(search) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!patterns[i].empty()) entries_.push_back({std::move(patterns[i]), tokens[i]});
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.pattern.size() != b.pattern.size()) return a.pattern.size() > b.pattern.size();
    return a.token->id < b.token->id;
  });
  for (uint32_t i = 0; i < entries_.size(); ++i)
    by_first_byte_[static_cast<unsigned char>(entries_[i].pattern[0])].push_back(i);
}

const AddedTokenMatcher::Entry* AddedTokenMatcher::longest_at(const std::string& text, size_t pos) const {
  for (const uint32_t i : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const Entry& e = entries_[i];
    if (text.compare(pos, e.pattern.size(), e.pattern) == 0) return &e;
  }
  return nullptr;
}

void AddedTokenMatcher::split_leftmost_longest(const Segment& seg, bool parse_special, std::vector<Segment>& out) const {
  const std::string& text = seg.text;
  size_t done = 0;  // end of the last token taken
  size_t pos = 0;
  while (pos < text.size()) {
    const Entry* e = longest_at(text, pos);
    if (!e) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + e->pattern.size();
    pos = stop;  // the search goes on after this match even when it is discarded, as tokenizers' iterator does
    const AddedToken& t = *e->token;
    if (!parse_special && t.special) continue;
    if (t.single_word && (word_char_before(text, start) || word_char_after(text, stop))) continue;
    if (t.lstrip) start = std::max(space_run_before(text, start), done);
    if (t.rstrip) stop = space_run_after(text, stop);
    if (start > done) out.push_back({text.substr(done, start - done), std::nullopt, seg.at_start && done == 0});
    out.push_back({text.substr(start, stop - start), t.id, false});
    done = pos = stop;
  }
  if (done < text.size()) out.push_back({text.substr(done), std::nullopt, seg.at_start && done == 0});
}

void AddedTokenMatcher::split_longest_first(std::vector<Segment>& segments, bool parse_special) const {
  for (const Entry& e : entries_) {
    const AddedToken& t = *e.token;
    if (!parse_special && t.special) continue;
    std::vector<Segment> next;
    for (Segment& seg : segments) {
      if (seg.token) {
        next.push_back(std::move(seg));
        continue;
      }
      size_t begin = 0;
      for (size_t m = seg.text.find(e.pattern); m != std::string::npos; m = seg.text.find(e.pattern, begin)) {
        size_t left_end = m;
        if (t.lstrip)
          while (left_end > begin && std::isspace(static_cast<unsigned char>(seg.text[left_end - 1]))) --left_end;
        if (left_end > begin) next.push_back({seg.text.substr(begin, left_end - begin), std::nullopt, seg.at_start && begin == 0});
        next.push_back({e.pattern, t.id, false});
        begin = m + e.pattern.size();
        if (t.rstrip)
          while (begin < seg.text.size() && std::isspace(static_cast<unsigned char>(seg.text[begin]))) ++begin;
      }
      if (begin < seg.text.size()) next.push_back({seg.text.substr(begin), std::nullopt, seg.at_start && begin == 0});
    }
    segments = std::move(next);
  }
}

void AddedTokenMatcher::split(std::vector<Segment>& segments, bool parse_special) const {
  if (entries_.empty()) return;
  if (search_ == AddedTokenSearch::LongestFirst) {
    split_longest_first(segments, parse_special);
    return;
  }
  std::vector<Segment> next;
  for (Segment& seg : segments) {
    if (seg.token) next.push_back(std::move(seg));
    else split_leftmost_longest(seg, parse_special, next);
  }
  segments = std::move(next);
}

}  // namespace supra
