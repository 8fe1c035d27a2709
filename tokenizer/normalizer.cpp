#include "tokenizer/normalizer.hpp"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "schema/error.hpp"

namespace supra {
namespace {

void replace_literal(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  size_t begin = 0;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, begin)) {
    out.append(text, begin, pos - begin);
    out += to;
    begin = pos + from.size();
  }
  if (begin == 0) return;
  out.append(text, begin);
  text = std::move(out);
}

void replace_regex(std::string& text, const SplitRegex& regex, const std::string& to) {
  std::vector<Span> matches;
  regex.find_all(text, matches);
  if (matches.empty()) return;
  std::string out;
  size_t prev = 0;
  for (const Span& m : matches) {
    out.append(text, prev, m.begin - prev);
    out += to;
    prev = m.end;
  }
  out.append(text, prev);
  text = std::move(out);
}

}  // namespace

std::string unicode_normalize(const std::string& text, const std::string& form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = form == "NFC"    ? icu::Normalizer2::getNFCInstance(status)
                              : form == "NFD"  ? icu::Normalizer2::getNFDInstance(status)
                              : form == "NFKC" ? icu::Normalizer2::getNFKCInstance(status)
                              : form == "NFKD" ? icu::Normalizer2::getNFKDInstance(status)
                                               : nullptr;
  if (!n || U_FAILURE(status)) throw bad_input("tokenizer.205", {}, "unicode normalization '" + form + "' is not available");
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
  // Most text is already normalized: skip the copy then.
  if (n->isNormalized(in, status) && U_SUCCESS(status)) return text;
  status = U_ZERO_ERROR;
  const icu::UnicodeString out = n->normalize(in, status);
  if (U_FAILURE(status)) throw bad_input("tokenizer.205", {}, "unicode normalization " + form + " failed");
  std::string result;
  out.toUTF8String(result);
  return result;
}

void normalize(const std::vector<NormalizerStep>& steps, std::string& text) {
  for (const NormalizerStep& s : steps) {
    switch (s.kind) {
      case NormalizerStep::Kind::Prepend:
        if (!text.empty()) text.insert(0, s.text);
        break;
      case NormalizerStep::Kind::Replace:
        if (s.regex) replace_regex(text, *s.regex, s.content);
        else replace_literal(text, s.text, s.content);
        break;
      case NormalizerStep::Kind::Unicode: text = unicode_normalize(text, s.form); break;
    }
  }
}

}  // namespace supra
