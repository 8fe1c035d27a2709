#pragma once
// JSON parsing for untrusted headers: UTF-8 checked up front, and duplicate
// keys rejected (Python's json silently keeps the last one, a known parser
// differential; the safetensors reference rejects such files).
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace supra {

// Byte index of the first byte that is not part of valid UTF-8, if any.
std::optional<size_t> first_invalid_utf8(std::string_view text);

struct DuplicateJsonKey : std::runtime_error {
  explicit DuplicateJsonKey(std::string k)
      : std::runtime_error("duplicate JSON key '" + k + "'"), key(std::move(k)) {}
  std::string key;
};

// Parses `text` keeping object key order; throws DuplicateJsonKey or
// nlohmann::json::parse_error.
nlohmann::ordered_json parse_json_rejecting_duplicates(std::string_view text);

}  // namespace supra
