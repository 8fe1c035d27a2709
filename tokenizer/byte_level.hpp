#pragma once
// GPT-2's reversible map from bytes to printable characters, which byte-level
// BPE vocabularies (GPT-2, Llama-3, Qwen2) are written in: the printable
// Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the other
// 68 bytes map to U+0100 upwards in byte order (so ' ' is 'Ġ', '\n' is 'Ċ').
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace supra {

// The character (as UTF-8) that stands for each byte.
const std::array<std::string, 256>& byte_level_chars();

// Every byte of `bytes` replaced by its character.
std::string to_byte_level(std::string_view bytes);
void append_byte_level(std::string& out, std::string_view bytes);

// The bytes a byte-level string stands for; nullopt when it holds a
// character outside the map (e.g. an added token's literal text).
std::optional<std::string> from_byte_level(std::string_view text);

}  // namespace supra
