#pragma once
// Compares a checkpoint with NAME.expected.json written next to a fixture by
// tools/fixtures/make_{pytorch,numpy}_fixtures.py: the tensors as torch or
// numpy see them (name, dtype, shape, row-major bytes in hex).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "schema/checkpoint.hpp"
#include "tests/test_util.hpp"

namespace supra::test {

inline std::string to_hex(const std::vector<std::byte>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::byte b : bytes) {
    s += digits[uint8_t(b) >> 4];
    s += digits[uint8_t(b) & 15];
  }
  return s;
}

inline nlohmann::json load_expected(const std::string& relative) {
  std::ifstream in(fixture_path(relative));
  EXPECT_TRUE(in.good()) << relative;
  return nlohmann::json::parse(in);
}

// Same tensors in the same order, bit for bit.
inline void expect_matches(const Checkpoint& ckpt, const std::string& expected_json) {
  const nlohmann::json doc = load_expected(expected_json);
  const auto& want = doc["tensors"];
  ASSERT_EQ(ckpt.tensors.size(), want.size()) << expected_json;
  for (size_t i = 0; i < want.size(); ++i) {
    const TensorSource& t = *ckpt.tensors[i];
    SCOPED_TRACE(want[i]["name"].get<std::string>());
    EXPECT_EQ(t.name(), want[i]["name"].get<std::string>());
    EXPECT_EQ(std::string(dtype_name(t.info().dtype)), want[i]["dtype"].get<std::string>());
    EXPECT_EQ(t.info().shape, want[i]["shape"].get<std::vector<uint64_t>>());
    EXPECT_EQ(to_hex(t.read_all()), want[i]["hex"].get<std::string>());
  }
}

}  // namespace supra::test
