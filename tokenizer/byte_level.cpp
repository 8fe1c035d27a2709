#include "tokenizer/byte_level.hpp"

#include <vector>

#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

bool printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct ByteLevelTables {
  std::array<std::string, 256> chars;
  std::vector<int> byte_of_code_point;  // index: code point < 0x144; -1 = not in the map

  ByteLevelTables() : byte_of_code_point(0x144, -1) {
    int next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable(b) ? char32_t(b) : char32_t(next++);
      append_utf8(chars[b], cp);
      byte_of_code_point[cp] = b;
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_level_chars() { return tables().chars; }

void append_byte_level(std::string& out, std::string_view bytes) {
  const auto& chars = tables().chars;
  for (const char c : bytes) out += chars[static_cast<unsigned char>(c)];
}

std::string to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  append_byte_level(out, bytes);
  return out;
}

std::optional<std::string> from_byte_level(std::string_view text) {
  const auto& map = tables().byte_of_code_point;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t n = decode_utf8(text, pos, cp);
    if (n == 0 || cp >= map.size() || map[cp] < 0) return std::nullopt;
    out += char(map[cp]);
    pos += n;
  }
  return out;
}

}  // namespace supra
