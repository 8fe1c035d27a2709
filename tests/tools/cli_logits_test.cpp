// `supra logits` and `supra generate` through the built binary on the demo
// model: output shapes and dtypes, --positions last, batches, --dump-hidden,
// the default tokens, errors that leave no output behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "converters/numpy/numpy_reader.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::run_supra;

class CliLogits : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto r = run_supra({"demo-model", (dir_ / "demo").string(), "--dtype", "f32"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string model() const { return (dir_ / "demo").string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  test::TempDir dir_;
};

struct Array {
  TensorInfo info;
  std::vector<std::byte> bytes;
  float f(size_t i) const {
    float v;
    std::memcpy(&v, bytes.data() + 4 * i, 4);
    return v;
  }
};

Array load(const fs::path& p) {
  const Checkpoint c = read_numpy(p);
  return {c.tensors.at(0)->info(), c.tensors.at(0)->read_all()};
}

TEST_F(CliLogits, WritesFloat32RowsPerTokenAndTheLastRowAlone) {
  const std::string tokens = "[5, 80, 120, 7, 255, 3]";
  auto r = run_supra({"logits", model(), "--tokens", tokens, "--out", path("all.npy"), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[6, 260]"), std::string::npos) << r.out;
  const Array all = load(path("all.npy"));
  EXPECT_EQ(all.info.dtype, DType::F32);
  EXPECT_EQ(all.info.shape, (std::vector<uint64_t>{6, 260}));
  r = run_supra({"logits", model(), "--tokens", tokens, "--out", path("last.npy"), "--positions", "last"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array last = load(path("last.npy"));
  EXPECT_EQ(last.info.shape, (std::vector<uint64_t>{1, 260}));
  for (size_t i = 0; i < 260; ++i) EXPECT_NEAR(last.f(i), all.f(5 * 260 + i), 1e-5 * (1 + std::abs(all.f(5 * 260 + i))));
  r = run_supra({"logits", model(), "--tokens", tokens, "--out", path("f64.npy"), "--precision", "f64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(path("f64.npy")).info.dtype, DType::F64);
}

TEST_F(CliLogits, BatchesStackTheSequencesRuns) {
  std::ofstream(path("batch.json")) << "[[1, 2, 3], [4, 5, 6]]";
  auto r = run_supra({"logits", model(), "--tokens", path("batch.json"), "--out", path("b.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array b = load(path("b.npy"));
  EXPECT_EQ(b.info.shape, (std::vector<uint64_t>{2, 3, 260}));
  r = run_supra({"logits", model(), "--tokens", "[4, 5, 6]", "--out", path("second.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array second = load(path("second.npy"));
  EXPECT_EQ(std::memcmp(second.bytes.data(), b.bytes.data() + 3 * 260 * 4, 3 * 260 * 4), 0);
  r = run_supra({"logits", model(), "--tokens", "[[1, 2], [3]]", "--out", path("bad.npy")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("equal lengths"), std::string::npos) << r.err;
}

TEST_F(CliLogits, DumpsEveryHiddenStateAndUsesDefaultTokensSayingSo) {
  auto r = run_supra({"logits", model(), "--out", path("l.npy"), "--dump-hidden", path("h.npz")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("16 random ids below 260 (seed 0)"), std::string::npos) << r.err;
  EXPECT_EQ(load(path("l.npy")).info.shape, (std::vector<uint64_t>{16, 260}));
  const Checkpoint h = read_numpy(path("h.npz"));
  std::vector<std::string> names;
  for (const auto& t : h.tensors) {
    names.push_back(t->name());
    EXPECT_EQ(t->info().shape, (std::vector<uint64_t>{16, 64})) << t->name();
  }
  const std::vector<std::string> want = {"embed", "layer.0.attn", "layer.0.mlp", "layer.1.attn", "layer.1.mlp", "final_norm"};
  EXPECT_EQ(names, want);
  r = run_supra({"logits", model(), "--random-tokens", "5", "--seed", "9", "--out", path("r.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(path("r.npy")).info.shape, (std::vector<uint64_t>{5, 260}));
}

TEST_F(CliLogits, AnIdOutsideTheVocabularyIsOneLineAndLeavesNoFile) {
  const auto r = run_supra({"logits", model(), "--tokens", "[1, 2, 999]", "--out", path("x.npy")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("token id 999 at position 2"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("x.npy")));
}

TEST_F(CliLogits, GenerateContinuesWithTheArgmaxOfTheLogits) {
  auto r = run_supra({"generate", model(), "--tokens", "[5, 80, 120]", "--max-new", "4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt"], nlohmann::json::parse("[5, 80, 120]"));
  ASSERT_EQ(j["new"].size(), 4u);
  r = run_supra({"logits", model(), "--tokens", "[5, 80, 120]", "--out", path("p.npy"), "--positions", "last"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array last = load(path("p.npy"));
  size_t best = 0;
  for (size_t i = 1; i < 260; ++i)
    if (last.f(i) > last.f(best)) best = i;
  EXPECT_EQ(j["new"][0].get<size_t>(), best);
  r = run_supra({"generate", model(), "--tokens", "[5, 80, 120]", "--max-new", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string want;
  for (const auto& id : j["new"]) want += (want.empty() ? "" : " ") + std::to_string(id.get<int>());
  EXPECT_EQ(r.out, want + "\n");
}

}  // namespace
}  // namespace supra
