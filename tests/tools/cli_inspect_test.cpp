// `supra inspect` through the built binary: --json numbers (parameters,
// bytes, dtype histogram), --stats against values computed here and against
// PyTorch's statistics of a fixture (tools/fixtures/make_safetensors_stats.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "converters/format.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::run_supra;

nlohmann::json inspect_json(const fs::path& p, bool stats) {
  std::vector<std::string> args = {"inspect", p.string(), "--json"};
  if (stats) args.push_back("--stats");
  const auto r = run_supra(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  return nlohmann::json::parse(r.out);
}

// Population statistics over the finite values, the definition README gives.
struct Expected {
  double min, max, mean, std;
  uint64_t nan, inf;
};
Expected expected_stats(const std::vector<double>& v) {
  Expected e{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), 0, 0, 0, 0};
  double sum = 0;
  uint64_t n = 0;
  for (double x : v) {
    if (std::isnan(x)) ++e.nan;
    else if (std::isinf(x)) ++e.inf;
    else {
      e.min = std::min(e.min, x);
      e.max = std::max(e.max, x);
      sum += x;
      ++n;
    }
  }
  e.mean = sum / double(n);
  double sq = 0;
  for (double x : v)
    if (std::isfinite(x)) sq += (x - e.mean) * (x - e.mean);
  e.std = std::sqrt(sq / double(n));
  return e;
}

void expect_close(const nlohmann::json& got, double want, double scale, const std::string& what) {
  ASSERT_TRUE(got.is_number()) << what << ": " << got.dump();
  EXPECT_NEAR(got.get<double>(), want, 1e-12 * std::max(1.0, scale)) << what;
}

void expect_stats(const nlohmann::json& s, const Expected& e, const std::string& name) {
  const double scale = std::max(std::fabs(e.min), std::fabs(e.max));
  expect_close(s["min"], e.min, scale, name + " min");
  expect_close(s["max"], e.max, scale, name + " max");
  expect_close(s["mean"], e.mean, scale, name + " mean");
  expect_close(s["std"], e.std, scale, name + " std");
  EXPECT_EQ(s["nan"].get<uint64_t>(), e.nan) << name;
  EXPECT_EQ(s["inf"].get<uint64_t>(), e.inf) << name;
}

TEST(CliInspect, JsonNumbersMatchTheCheckpoint) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("a", DType::BF16, {12, 7}), test::make_tensor("b", DType::BF16, {5}),
                  test::make_tensor("c", DType::F32, {3, 4, 2}), test::make_tensor("d", DType::I64, {9}),
                  test::make_tensor("s", DType::F16, {}), test::make_tensor("e", DType::F32, {0, 3})};
  ckpt.metadata = {{"format", "pt"}, {"model", "tiny"}};
  write_checkpoint(*find_format("safetensors"), ckpt, dir / "m.safetensors", {});
  const auto j = inspect_json(dir / "m.safetensors", false);
  EXPECT_EQ(j["format"], "safetensors");
  EXPECT_EQ(j["tensor_count"].get<int>(), 6);
  // Computed here from the shapes and element sizes above.
  EXPECT_EQ(j["parameters"].get<uint64_t>(), 84u + 5 + 24 + 9 + 1 + 0);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), (84u + 5) * 2 + 24 * 4 + 9 * 8 + 2);
  EXPECT_EQ(j["dtypes"], nlohmann::json({{"BF16", 89}, {"F32", 24}, {"I64", 9}, {"F16", 1}}));
  EXPECT_EQ(j["metadata"], nlohmann::json({{"format", "pt"}, {"model", "tiny"}}));
  ASSERT_EQ(j["tensors"].size(), 6u);
  for (const auto& t : j["tensors"]) {
    const TensorSource* src = ckpt.find(t["name"].get<std::string>());
    ASSERT_NE(src, nullptr);
    EXPECT_EQ(t["dtype"], std::string(dtype_name(src->info().dtype)));
    EXPECT_EQ(t["shape"].get<std::vector<uint64_t>>(), src->info().shape);
    EXPECT_EQ(t["bytes"].get<uint64_t>(), src->info().nbytes());
    EXPECT_FALSE(t.contains("stats"));
  }
  // The text report carries the same numbers.
  const auto r = run_supra({"inspect", (dir / "m.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tensors:    6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: 123"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BF16: 89"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model = tiny"), std::string::npos) << r.out;
}

TEST(CliInspect, StatsMatchValuesComputedHere) {
  test::TempDir dir;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const std::vector<double> f32 = {1, 2, 3, 4, nan, inf, -inf, -2.5, 1e-3};
  const std::vector<double> bf16 = {0.5, -1.25, 3, 1024, -0.0078125};  // exact in bf16
  const std::vector<double> i64 = {-3, 7, 100, 0};
  const std::vector<double> boolean = {1, 0, 1, 1};
  std::vector<float> f32f(f32.begin(), f32.end()), bf16f(bf16.begin(), bf16.end());
  std::vector<std::byte> i64b(32), boolb = {std::byte{1}, std::byte{0}, std::byte{1}, std::byte{1}};
  for (size_t i = 0; i < 4; ++i) {
    const int64_t v = int64_t(i64[i]);
    std::memcpy(i64b.data() + 8 * i, &v, 8);
  }
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor_from_floats("f32", DType::F32, {9}, f32f),
                  test::make_tensor_from_floats("bf16", DType::BF16, {5}, bf16f),
                  std::make_shared<MemoryTensorSource>(TensorInfo{"i64", DType::I64, {2, 2}}, i64b),
                  std::make_shared<MemoryTensorSource>(TensorInfo{"bool", DType::BOOL, {4}}, boolb),
                  test::make_tensor_from_floats("empty", DType::F32, {0}, {})};
  write_checkpoint(*find_format("safetensors"), ckpt, dir / "s.safetensors", {});
  const auto j = inspect_json(dir / "s.safetensors", true);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& t : j["tensors"]) by_name[t["name"].get<std::string>()] = t["stats"];
  // f32 of 1e-3 is not 1e-3: use the value the file really holds.
  std::vector<double> f32_stored(f32f.begin(), f32f.end());
  expect_stats(by_name["f32"], expected_stats(f32_stored), "f32");
  expect_stats(by_name["bf16"], expected_stats(bf16), "bf16");
  expect_stats(by_name["i64"], expected_stats(i64), "i64");
  expect_stats(by_name["bool"], expected_stats(boolean), "bool");
  // No finite values: the statistics do not exist (null), counts are zero.
  const auto& e = by_name["empty"];
  EXPECT_TRUE(e["min"].is_null() && e["max"].is_null() && e["mean"].is_null() && e["std"].is_null()) << e.dump();
  EXPECT_EQ(e["nan"].get<int>(), 0);
}

TEST(CliInspect, StatsMatchPyTorchOnFixture) {
  const fs::path file = test::fixture_path("safetensors/stats.safetensors");
  std::ifstream in(test::fixture_path("safetensors/stats.json"));
  const auto want = nlohmann::json::parse(in);
  const auto j = inspect_json(file, true);
  ASSERT_EQ(j["tensors"].size(), want.size());
  uint64_t params = 0;
  for (const auto& [name, w] : want.items()) params += w["numel"].get<uint64_t>();
  EXPECT_EQ(j["parameters"].get<uint64_t>(), params);
  EXPECT_EQ(j["metadata"]["producer"], "torch fixture");
  for (const auto& t : j["tensors"]) {
    const std::string name = t["name"];
    ASSERT_TRUE(want.contains(name)) << name;
    const auto& w = want[name];
    EXPECT_EQ(t["dtype"], w["dtype"]) << name;
    EXPECT_EQ(t["shape"], w["shape"]) << name;
    const auto& s = t["stats"];
    const auto& ws = w["stats"];
    EXPECT_EQ(s["nan"], ws["nan"]) << name;
    EXPECT_EQ(s["inf"], ws["inf"]) << name;
    for (const char* k : {"min", "max", "mean", "std"}) {
      if (ws[k].is_null()) {
        EXPECT_TRUE(s[k].is_null()) << name << " " << k;
        continue;
      }
      const double scale = std::max(std::fabs(ws["min"].get<double>()), std::fabs(ws["max"].get<double>()));
      expect_close(s[k], ws[k].get<double>(), scale, name + " " + k);
    }
  }
}

TEST(CliInspect, MissingAndUnknownInputs) {
  test::TempDir dir;
  auto r = run_supra({"inspect", (dir / "none").string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(r.err.rfind("[io.open]", 0), 0u) << r.err;
  r = run_supra({"inspect"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_supra({"inspect", (dir / "x").string(), "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace supra
