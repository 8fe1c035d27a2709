#include "tokenizer/split_regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "schema/error.hpp"
#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

constexpr const char* kWordClassBody = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";

// One match-data block per thread, grown on demand: pcre2_match needs one
// and allocating it per call would cost more than the short matches it serves.
pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

}  // namespace

std::string oniguruma_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      switch (e) {
        case 's': out += "\\p{White_Space}"; break;
        case 'S': out += "\\P{White_Space}"; break;
        case 'w': out += in_class ? std::string(kWordClassBody) : "[" + std::string(kWordClassBody) + "]"; break;
        case 'W':
          if (in_class)
            throw bad_input("tokenizer.203", {}, "regex '" + std::string(p) + "': \\W inside a character class is not supported");
          out += "[^" + std::string(kWordClassBody) + "]";
          break;
        default: out += '\\'; out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX [:alpha:]
      const size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(p.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

SplitRegex::SplitRegex(std::string_view pattern, const std::string& source) : pattern_(pattern) {
  compile(oniguruma_to_pcre2(pattern), source);
}

SplitRegex SplitRegex::literal(std::string_view literal, const std::string& source) {
  SplitRegex r;
  r.pattern_ = std::string(literal);
  std::string escaped;
  for (const char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-#/").find(c) != std::string_view::npos) escaped += '\\';
    escaped += c;
  }
  r.compile(escaped, source);
  return r;
}

void SplitRegex::compile(const std::string& pcre_pattern, const std::string& source) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  // MULTILINE: in Oniguruma's Ruby syntax ^ and $ are line anchors.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre_pattern.data()), pcre_pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error, &error_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw bad_input("tokenizer.203", {source, {}, {}},
                    "regex '" + pattern_ + "' does not compile: " + reinterpret_cast<const char*>(message) +
                        " at offset " + std::to_string(error_offset));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // without JIT (unsupported CPU) matching is slower, not wrong
  code_ = std::shared_ptr<pcre2_code>(code, pcre2_code_free);
}

void SplitRegex::find_all(std::string_view text, std::vector<Span>& out) const {
  pcre2_match_data* md = thread_match_data();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    // The text was checked once by the caller: no per-call UTF scan.
    const int rc = pcre2_match(code_.get(), subject, text.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw bad_input("tokenizer.204", {}, "regex '" + pattern_ + "' failed: " + reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] > ov[0]) {
      out.push_back({ov[0], ov[1]});
      start = ov[1];
    } else {  // an empty match splits nothing: step over one character
      if (ov[0] >= text.size()) return;
      const size_t n = utf8_sequence_length(static_cast<unsigned char>(text[ov[0]]));
      start = ov[0] + (n ? n : 1);
    }
  }
}

}  // namespace supra
