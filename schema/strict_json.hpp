#pragma once
// Strict reading of the JSON tables under schema/: every key of an object must
// be claimed, every value has its type checked, and every error names the
// table file and the JSON pointer of the offending value ("at /hf_config/fields/x").
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "schema/error.hpp"

namespace supra::strict_json {

// JSON pointer of a child (RFC 6901 escaping: ~ -> ~0, / -> ~1).
inline std::string child_path(const std::string& path, const std::string& key) {
  std::string escaped;
  for (char c : key) escaped += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return path + "/" + escaped;
}
inline std::string child_path(const std::string& path, size_t index) { return path + "/" + std::to_string(index); }

[[noreturn]] inline void fail(const std::string& id, const std::string& source, const std::string& path,
                              const std::string& detail) {
  throw bad_input(id, {source, {}, {}}, "at " + (path.empty() ? std::string("/") : path) + ": " + detail);
}

// An array of non-empty strings at `path` (or one string, when `one_allowed`).
inline std::vector<std::string> strings_at(const nlohmann::json& v, const std::string& source, const std::string& path,
                                           bool one_allowed = false) {
  if (one_allowed && v.is_string() && !v.get<std::string>().empty()) return {v.get<std::string>()};
  if (!v.is_array()) fail("schema.304", source, path, "expected an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get<std::string>().empty())
      fail("schema.304", source, child_path(path, i), "expected a non-empty string");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// Reads one JSON object strictly: every key must be claimed, types are checked.
class StrictObject {
 public:
  StrictObject(const nlohmann::json& j, std::string source, std::string path, std::set<std::string> allowed)
      : j_(j), source_(std::move(source)), path_(std::move(path)) {
    if (!j_.is_object()) fail("schema.304", source_, path_, "expected an object");
    for (const auto& [key, value] : j_.items())
      if (!allowed.count(key)) fail("schema.302", source_, child_path(path_, key), "unknown key '" + key + "'");
  }
  bool has(const std::string& key) const { return j_.contains(key); }
  const nlohmann::json& get(const std::string& key) const {
    if (!j_.contains(key)) fail("schema.303", source_, path_, "missing required key '" + key + "'");
    return j_.at(key);
  }
  const std::string& source() const { return source_; }
  std::string path(const std::string& key) const { return child_path(path_, key); }
  std::string string(const std::string& key) const {
    const nlohmann::json& v = get(key);
    if (!v.is_string()) fail("schema.304", source_, path(key), "expected a string");
    const std::string s = v.get<std::string>();
    if (s.empty()) fail("schema.305", source_, path(key), "empty string");
    return s;
  }
  std::string string_or(const std::string& key, std::string fallback) const {
    return has(key) ? string(key) : fallback;
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const nlohmann::json& v = j_.at(key);
    if (!v.is_boolean()) fail("schema.304", source_, path(key), "expected true or false");
    return v.get<bool>();
  }
  std::optional<int> small_int(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const nlohmann::json& v = j_.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 7)
      fail("schema.304", source_, path(key), "expected a dimension index 0..7");
    return int(v.get<int64_t>());
  }
  std::vector<std::string> strings(const std::string& key, bool required) const {
    if (!has(key)) {
      if (required) get(key);
      return {};
    }
    return strings_at(j_.at(key), source_, path(key));
  }
 private:
  const nlohmann::json& j_;
  std::string source_, path_;
};

}  // namespace supra::strict_json
