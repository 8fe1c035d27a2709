// `supra validate --from-logits` through the built binary: exit 0 / 6 by the
// verdict, --json, --report (.md / .html, refused otherwise, never half
// written), --save-base / --base, one-line usage errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "converters/format.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::run_supra;

// Logits [24, 50]: a fixed pattern plus `noise` times another.
void write_logits(const fs::path& path, double noise) {
  const uint64_t rows = 24, vocab = 50;
  std::vector<float> v(rows * vocab);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = float(3 * std::sin(0.37 * double(i)) + std::cos(1.3 * double(i)) + noise * std::sin(2.1 * double(i)));
  Checkpoint c;
  c.tensors = {test::make_tensor_from_floats("logits", DType::F32, {rows, vocab}, v)};
  write_checkpoint(*find_format("numpy"), c, path, {});
}

struct Files {
  test::TempDir dir;
  fs::path a = dir / "a.npy", same = dir / "same.npy", noisy = dir / "noisy.npy", tokens = dir / "t.json";
  Files() {
    write_logits(a, 0);
    write_logits(same, 0);
    write_logits(noisy, 0.5);
    std::string ids = "[";
    for (int i = 0; i < 24; ++i) ids += (i ? "," : "") + std::to_string(i * 7 % 50);
    std::ofstream(tokens) << ids << "]";
  }
};

TEST(CliValidate, VerdictDecidesTheExitCode) {
  Files f;
  auto r = run_supra({"validate", "--from-logits", f.a.string(), f.same.string(), "--tokens", f.tokens.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verdict: PASS"), std::string::npos) << r.out;
  r = run_supra({"validate", "--from-logits", f.a.string(), f.noisy.string(), "--tokens", f.tokens.string(), "--json"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["failed_checks"][0], "kld_mean");
  EXPECT_EQ(j["logits"]["scored"], 23);
  // Loose enough limits make the same logits pass.
  r = run_supra({"validate", "--from-logits", f.a.string(), f.noisy.string(), "--tol-kld", "1", "--tol-rel", "1",
                 "--tol-top1", "0", "--tol-ppl", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("(0 scored)"), std::string::npos) << "no --tokens: nothing scored\n" << r.out;
}

TEST(CliValidate, ReportFilesByExtensionNeverHalfWritten) {
  Files f;
  const fs::path md = f.dir / "r.md", html = f.dir / "r.html";
  auto r = run_supra({"validate", "--from-logits", f.a.string(), f.noisy.string(), "--report", md.string()});
  EXPECT_EQ(r.exit_code, 6);
  const auto text = test::read_file_bytes(md);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(text.data()), 21), "### supra validate: `");
  r = run_supra({"validate", "--from-logits", f.a.string(), f.noisy.string(), "--report", md.string()});
  EXPECT_EQ(r.exit_code, 2) << "exists without --force: " << r.err;
  r = run_supra({"validate", "--from-logits", f.a.string(), f.same.string(), "--report", html.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(html));
  r = run_supra({"validate", "--from-logits", f.a.string(), f.same.string(), "--report", (f.dir / "r.pdf").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("[usage.report]", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(f.dir / "r.pdf"));
}

TEST(CliValidate, SaveBaseThenCompare) {
  Files f;
  const fs::path base = f.dir / "base.npz";
  auto r = run_supra({"validate", "--from-logits", f.a.string(), "--tokens", f.tokens.string(), "--save-base",
                      base.string(), "--top-k", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("24 positions, top-8"), std::string::npos) << r.out;
  r = run_supra({"validate", "--from-logits", f.same.string(), "--base", base.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["logits"]["reference"], "baseline");
  EXPECT_EQ(j["logits"]["same_top1"]["value"], 1.0);
  EXPECT_LT(std::fabs(j["logits"]["kld"]["mean"].get<double>()), 1e-12);
  r = run_supra({"validate", "--from-logits", f.noisy.string(), "--base", base.string()});
  EXPECT_EQ(r.exit_code, 6) << r.out;
}

TEST(CliValidate, UsageErrorsAreOneLine) {
  Files f;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"validate", "--from-logits", f.a.string()},
           {"validate", "--from-logits", f.a.string(), f.same.string(), "--tol-kld", "-1"},
           {"validate", "--from-logits", f.a.string(), f.same.string(), "--tol-basis", "q9"},
           {"validate", "--from-logits", f.a.string(), "--save-base", (f.dir / "b.npz").string()}}) {
    const auto r = run_supra(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  const auto r = run_supra({"validate", "--from-logits", f.a.string(), f.tokens.string()});
  EXPECT_EQ(r.exit_code, 3) << "a JSON file is not logits: " << r.err;
}

}  // namespace
}  // namespace supra
