#pragma once
// UTF-8 as the tokenizer needs it: walking code points, refusing invalid
// input with the byte where it goes wrong, replacing invalid bytes the way
// Hugging Face's decoders do (String::from_utf8_lossy: one U+FFFD per maximal
// invalid subpart), and finding an unfinished sequence at the end of a
// buffer, which a streaming decoder must hold back.
#include <cstddef>
#include <string>
#include <string_view>

namespace supra {

// Bytes in the sequence a lead byte starts (1-4); 0 for a continuation byte
// or a byte that never starts a sequence (0x80-0xC1, 0xF5-0xFF).
size_t utf8_sequence_length(unsigned char lead);

// Length of the valid sequence starting at `pos` (1-4), storing its code
// point in `cp`; 0 when the bytes there are not a complete valid sequence.
size_t decode_utf8(std::string_view s, size_t pos, char32_t& cp);

void append_utf8(std::string& out, char32_t cp);

// Offset of the first byte that is not part of a valid sequence, or npos.
size_t invalid_utf8_offset(std::string_view s);

// `s` with every maximal invalid subpart replaced by U+FFFD.
std::string utf8_lossy(std::string_view s);

// How many bytes at the end of `s` are the start of a sequence that is
// valid so far but not finished (0-3).
size_t unfinished_utf8_tail(std::string_view s);

}  // namespace supra
