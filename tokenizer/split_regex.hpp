#pragma once
// The regular expressions of pre-tokenizers and normalizers, run by PCRE2
// with UTF and UCP (Unicode properties for \p{L}, \p{N}, ...). Patterns in
// tokenizer.json are written for Oniguruma, the engine Hugging Face's
// tokenizers uses; where the two disagree on a shorthand, the pattern is
// rewritten to Oniguruma's Unicode meaning first (see oniguruma_to_pcre2).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;

namespace supra {

struct Span {
  size_t begin = 0, end = 0;
};

// Oniguruma -> PCRE2: \s and \S become the White_Space property, which is
// what Oniguruma's are (PCRE2 10.42's own \s under UCP agrees; spelling it
// out keeps the meaning fixed across PCRE2 versions), \w and \W Oniguruma's
// word characters (Alphabetic, marks, decimal digits, connector punctuation),
// where PCRE2's \w is letters, all numbers and '_'. Throws
// bad_input("tokenizer.203") for a construct it cannot carry over (\W inside
// a character class).
std::string oniguruma_to_pcre2(std::string_view pattern);

class SplitRegex {
 public:
  // `pattern` in Oniguruma syntax; `source` names the file for errors.
  // Throws bad_input("tokenizer.203") when it does not compile.
  SplitRegex(std::string_view pattern, const std::string& source);
  // A regex matching `literal` exactly.
  static SplitRegex literal(std::string_view literal, const std::string& source);

  // Appends the non-empty matches in `text` (valid UTF-8), left to right,
  // each search starting where the previous match ended.
  void find_all(std::string_view text, std::vector<Span>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  SplitRegex() = default;
  void compile(const std::string& pcre_pattern, const std::string& source);
  std::string pattern_;  // as written in tokenizer.json
  std::shared_ptr<pcre2_real_code_8> code_;
};

}  // namespace supra
