// The sampler's filters and draw, generation's stop at EOS, and the
// perplexity windows of llama-perplexity's rule.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "schema/error.hpp"
#include "tests/validate/tiny_models.hpp"
#include "validate/evaluate.hpp"
#include "validate/perplexity.hpp"
#include "validate/sampler.hpp"

namespace supra::validate {
namespace {

// ln of probabilities 0.4 0.3 0.2 0.1 placed at ids 2 0 3 1.
const std::vector<double> kLogits = {std::log(0.3), std::log(0.1), std::log(0.4), std::log(0.2)};

std::vector<uint32_t> ids_of(const std::vector<std::pair<uint32_t, double>>& support) {
  std::vector<uint32_t> ids;
  for (const auto& [id, p] : support) ids.push_back(id);
  return ids;
}

TEST(Sampler, TopKKeepsTheKMostProbableRenormalized) {
  SamplingOptions o;
  o.top_k = 2;
  const auto s = sampling_support(kLogits, o);
  EXPECT_EQ(ids_of(s), (std::vector<uint32_t>{2, 0}));
  EXPECT_NEAR(s[0].second, 0.4 / 0.7, 1e-12);
  EXPECT_NEAR(s[1].second, 0.3 / 0.7, 1e-12);
}

TEST(Sampler, TopPKeepsTheFewestTokensWhoseMassReachesP) {
  SamplingOptions o;
  o.top_p = 0.7;  // 0.4 < 0.7, 0.4 + 0.3 reaches it: two tokens
  EXPECT_EQ(ids_of(sampling_support(kLogits, o)), (std::vector<uint32_t>{2, 0}));
  o.top_p = 0.71;
  EXPECT_EQ(ids_of(sampling_support(kLogits, o)), (std::vector<uint32_t>{2, 0, 3}));
  o.top_p = 0.1;  // the most probable token always stays
  EXPECT_EQ(ids_of(sampling_support(kLogits, o)), (std::vector<uint32_t>{2}));
}

TEST(Sampler, TemperatureSharpensBeforeTheFilters) {
  SamplingOptions o;
  o.temperature = 0.5;  // p ~ p^2: 0.16 0.09 0.04 0.01 over 0.30
  const auto s = sampling_support(kLogits, o);
  EXPECT_NEAR(s[0].second, 0.16 / 0.30, 1e-12);
  o.top_p = 0.8;  // 0.533 + 0.3 reaches 0.8 -> two tokens (at T = 1 it would take three)
  EXPECT_EQ(ids_of(sampling_support(kLogits, o)).size(), 2u);
}

TEST(Sampler, DrawsFollowTheDistributionAndRepeatWithTheSeed) {
  SamplingOptions o;
  o.seed = 42;
  Sampler a(o), b(o);
  std::map<uint32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const uint32_t id = a.next(kLogits);
    EXPECT_EQ(id, b.next(kLogits));
    ++counts[id];
  }
  // Binomial standard deviation at n = 20000 is below 0.0035: 5 sigma.
  EXPECT_NEAR(counts[2] / double(n), 0.4, 0.018);
  EXPECT_NEAR(counts[0] / double(n), 0.3, 0.018);
  EXPECT_NEAR(counts[3] / double(n), 0.2, 0.018);
  EXPECT_NEAR(counts[1] / double(n), 0.1, 0.018);
}

TEST(Sampler, RefusesTemperatureZeroAndTopPOutsideTheUnitInterval) {
  SamplingOptions o;
  o.temperature = 0;
  EXPECT_THROW(Sampler{o}, Error);
  o.temperature = 1;
  o.top_p = 0;
  EXPECT_THROW(Sampler{o}, Error);
}

TEST(Generate, StopsAtAStopIdAndKeepsIt) {
  const Model model(test::tiny_model(test::Family::Llama));
  GenerateOptions o;
  o.max_new = 6;
  const std::vector<uint32_t> prompt = {3, 17, 42};
  const GenerateResult free_run = generate(model, prompt, o);
  ASSERT_EQ(free_run.ids.size(), 6u);
  EXPECT_FALSE(free_run.stopped);
  o.stop_ids = {free_run.ids[2]};
  std::vector<uint32_t> streamed;
  o.on_token = [&](uint32_t id) { streamed.push_back(id); };
  const GenerateResult stopped = generate(model, prompt, o);
  const size_t first = size_t(std::find(free_run.ids.begin(), free_run.ids.end(), free_run.ids[2]) - free_run.ids.begin());
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.ids, std::vector<uint32_t>(free_run.ids.begin(), free_run.ids.begin() + first + 1));
  EXPECT_EQ(streamed, stopped.ids);
}

TEST(Generate, SamplingIsReproducibleWithTheSeed) {
  const Model model(test::tiny_model(test::Family::Llama));
  GenerateOptions o;
  o.max_new = 12;
  o.sampling = SamplingOptions{};
  o.sampling->temperature = 2.0;
  o.sampling->seed = 5;
  const std::vector<uint32_t> prompt = {3, 17, 42};
  const auto a = generate(model, prompt, o).ids;
  EXPECT_EQ(generate(model, prompt, o).ids, a);
  o.sampling->seed = 6;
  EXPECT_NE(generate(model, prompt, o).ids, a);
}

std::vector<uint32_t> iota_tokens(uint32_t n) {
  std::vector<uint32_t> t(n);
  for (uint32_t i = 0; i < n; ++i) t[i] = 100 + i;
  return t;
}

TEST(PerplexityWindows, BackToBackWindowsScoreTheirSecondHalfWithBosFirst) {
  const auto w = perplexity_windows(iota_tokens(21), 8, 0, 7);
  ASSERT_EQ(w.size(), 2u);  // floor(21 / 8); the tail is not scored
  EXPECT_EQ(w[1].start, 8u);
  EXPECT_EQ(w[1].input, (std::vector<uint32_t>{7, 109, 110, 111, 112, 113, 114, 115}));
  EXPECT_EQ(w[1].first_row, 4u);  // rows 4, 5, 6 predict tokens 13, 14, 15 of the text
  EXPECT_EQ(w[1].targets, (std::vector<uint32_t>{113, 114, 115}));
  EXPECT_EQ(perplexity_windows(iota_tokens(16), 8, 0, std::nullopt)[0].input[0], 100u);
}

TEST(PerplexityWindows, StridedWindowsScoreTheirLastStridePredictionsUnchanged) {
  const auto w = perplexity_windows(iota_tokens(20), 8, 3, 7);
  ASSERT_EQ(w.size(), 4u);  // ceil((20 - 8) / 3)
  EXPECT_EQ(w[3].start, 9u);
  EXPECT_EQ(w[3].input.front(), 109u);  // no BOS in strided mode
  EXPECT_EQ(w[3].first_row, 4u);
  EXPECT_EQ(w[3].targets, (std::vector<uint32_t>{114, 115, 116}));
}

TEST(PerplexityWindows, RefusesTooFewTokensAndAStrideAsLongAsTheWindow) {
  EXPECT_THROW(perplexity_windows(iota_tokens(15), 8, 0, 7), Error);
  EXPECT_THROW(perplexity_windows(iota_tokens(40), 8, 8, 7), Error);
}

}  // namespace
}  // namespace supra::validate
