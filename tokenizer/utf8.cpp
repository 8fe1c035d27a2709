#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

// The range a sequence's second byte must fall in, which excludes overlong
// forms, surrogates and code points past U+10FFFF (Unicode table 3-7).
bool second_byte_ok(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

// Bytes of the longest valid prefix of a sequence at `pos` (at least 1 when
// the lead byte can start one), and whether it is complete.
size_t valid_prefix(std::string_view s, size_t pos, bool& complete) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  const size_t need = utf8_sequence_length(lead);
  complete = false;
  if (need == 0) return 0;
  size_t n = 1;
  while (n < need && pos + n < s.size()) {
    const auto b = static_cast<unsigned char>(s[pos + n]);
    if (n == 1 ? !second_byte_ok(lead, b) : (b & 0xC0) != 0x80) break;
    ++n;
  }
  complete = n == need;
  return n;
}

}  // namespace

size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

size_t decode_utf8(std::string_view s, size_t pos, char32_t& cp) {
  if (pos >= s.size()) return 0;
  bool complete = false;
  const size_t n = valid_prefix(s, pos, complete);
  if (!complete) return 0;
  const auto lead = static_cast<unsigned char>(s[pos]);
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  cp = lead & kLeadMask[n];
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  return n;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

size_t invalid_utf8_offset(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    bool complete = false;
    const size_t n = valid_prefix(s, pos, complete);
    if (!complete) return pos;
    pos += n;
  }
  return std::string_view::npos;
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    bool complete = false;
    const size_t n = valid_prefix(s, pos, complete);
    if (complete) {
      out.append(s.substr(pos, n));
      pos += n;
    } else {
      out += "\xEF\xBF\xBD";   // U+FFFD
      pos += n == 0 ? 1 : n;  // the bytes that were valid so far are one subpart
    }
  }
  return out;
}

size_t unfinished_utf8_tail(std::string_view s) {
  // A sequence is at most 4 bytes, so its start is among the last 3.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const size_t pos = s.size() - back;
    const auto b = static_cast<unsigned char>(s[pos]);
    if ((b & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    bool complete = false;
    const size_t n = valid_prefix(s, pos, complete);
    return (!complete && n == back) ? back : 0;
  }
  return 0;
}

}  // namespace supra
