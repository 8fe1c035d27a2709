// The four renderings of a parity report say the same thing: verdict, failing
// checks, first divergence; the terminal fits 100 columns, the HTML loads
// nothing from anywhere, the JSON keys are the documented ones.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <sstream>

#include "validate/parity_report.hpp"

namespace supra {
namespace {

ParityReport sample_report(bool broken) {
  std::mt19937 rng(7);
  std::normal_distribution<double> d(0, 2);
  const size_t rows = 20, v = 40;
  std::vector<double> a(rows * v), b(rows * v);
  for (size_t i = 0; i < a.size(); ++i) a[i] = d(rng), b[i] = a[i] + (broken ? 0.3 * d(rng) : 1e-9 * d(rng));
  std::vector<int64_t> next(rows);
  for (size_t t = 0; t < rows; ++t) next[t] = t + 1 < rows ? int64_t(t % v) : -1;
  LogitMetrics m = compare_logits(std::span<const double>(a), std::span<const double>(b), next, v);
  std::vector<HiddenStepError> hidden;
  const std::vector<double> h(8, 1.0);
  for (uint64_t layer = 0; layer < 4; ++layer)
    for (const char* sub : {"attn", "mlp"}) {
      std::vector<double> hb = h;
      hb[0] += broken && layer >= 2 ? 0.5 : 1e-9 * double(layer + 1);
      hidden.push_back(hidden_step_error(layer, sub, std::span<const double>(h), std::span<const double>(hb), 2, 4));
    }
  return make_parity_report({"model-a/", {{"BF16", 1000}, {"F32", 10}}}, {"model-b.gguf", {{"Q8_0", 1000}}}, m,
                            hidden, default_tolerances(PrecisionClass::Q8));
}

TEST(ParityReport, TerminalFitsHundredColumnsAndNamesFailures) {
  const ParityReport r = sample_report(true);
  const std::string text = render_parity_terminal(r);
  std::istringstream lines(text);
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 100u) << line;
  }
  EXPECT_GT(n, 30u);
  EXPECT_NE(text.find("verdict: FAIL: kld_mean"), std::string::npos) << text;
  EXPECT_NE(text.find("first divergence: layer 2 attn"), std::string::npos) << text;
  EXPECT_NE(text.find("<- first divergence"), std::string::npos);
  EXPECT_NE(text.find("Q8_0 100.0%"), std::string::npos);
  EXPECT_NE(render_parity_terminal(sample_report(false)).find("verdict: PASS"), std::string::npos);
}

TEST(ParityReport, MarkdownHeaderAndMarkedDivergence) {
  const std::string md = render_parity_markdown(sample_report(true));
  EXPECT_EQ(md.rfind("### supra validate: `model-a/` vs `model-b.gguf`: **FAIL**\n", 0), 0u) << md;
  EXPECT_NE(md.find("| metric | value | limit | check |"), std::string::npos);
  EXPECT_NE(md.find("| **2** | **attn** |"), std::string::npos) << md;
  EXPECT_NE(md.find("**FAIL: first divergence**"), std::string::npos);
  EXPECT_EQ(render_parity_markdown(sample_report(false)).find("first divergence"), std::string::npos);
}

TEST(ParityReport, HtmlIsSelfContainedWithThePlot) {
  const ParityReport r = sample_report(true);
  const std::string html = render_parity_html(r);
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("@font-face"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"error-plot\""), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("<polyline class=\"error-line\" points=\"([^\"]*)\"")));
  const std::string points = m[1];
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 8);  // one x,y pair per step
  EXPECT_NE(html.find("class=\"tolerance\""), std::string::npos);
  EXPECT_NE(html.find("class=\"first-divergence\""), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"first\">"), std::string::npos);
}

TEST(ParityReport, JsonKeysAreTheDocumentedOnes) {
  const auto j = parity_report_json(sample_report(true));
  std::vector<std::string> keys;
  for (const auto& [k, _] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "passed", "failed_checks", "model_a", "model_b", "tolerances",
                                            "logits", "hidden", "first_divergence", "checks"}));
  EXPECT_EQ(j["schema"], "supra.validate/1");
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["model_b"]["precision"], "q8");
  EXPECT_EQ(j["tolerances"]["basis"], "q8");
  EXPECT_TRUE(j["tolerances"]["kld_max"].is_null());  // inf: not checked
  EXPECT_EQ(j["first_divergence"]["layer"], 2);
  EXPECT_EQ(j["first_divergence"]["substep"], "attn");
  EXPECT_EQ(j["hidden"].size(), 8u);
  for (const char* k : {"positions", "scored", "vocab", "reference", "ppl_a", "ppl_b", "ppl_ratio", "ln_ppl_ratio",
                        "nll_correlation", "kld", "delta_p", "same_top1", "top5_overlap", "max_abs_logit_error",
                        "rel_l2_logit_error", "nonfinite_a", "nonfinite_b"})
    EXPECT_TRUE(j["logits"].contains(k)) << k;
  for (const char* k : {"mean", "error", "max", "p99.9", "p99", "p95", "p90", "median", "p10", "p5", "p1", "p0.1", "min"})
    EXPECT_TRUE(j["logits"]["kld"].contains(k)) << k;
  EXPECT_TRUE(j["logits"]["delta_p"].contains("rms"));
}

}  // namespace
}  // namespace supra
