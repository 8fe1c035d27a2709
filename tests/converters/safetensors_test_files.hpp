#pragma once
// Builds safetensors files byte by byte for the reader/writer tests, without
// going through our writer (so a writer bug cannot hide a reader bug).
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace supra::test {

// u64 LE header length (the real length unless `declared_len` is given),
// then `header`, then `data`.
inline std::vector<std::byte> safetensors_bytes(const std::string& header, const std::string& data = "",
                                                std::optional<uint64_t> declared_len = std::nullopt) {
  const uint64_t n = declared_len.value_or(header.size());
  std::vector<std::byte> out(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out[size_t(i)] = std::byte((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, header.data(), header.size());
  std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

// `n` bytes of a recognisable pattern (0, 1, 2, ...).
inline std::string pattern_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char(i * 7 + 1);
  return s;
}

// Little-endian bytes of float values.
inline std::string f32_bytes(const std::vector<float>& values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

}  // namespace supra::test
