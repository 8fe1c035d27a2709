#include "validate/parity_from_files.hpp"

#include <fmt/format.h>

#include "schema/error.hpp"
#include "validate/parity_inputs.hpp"

namespace supra {
namespace {

void add_rows(ParitySession& s, LogitsFile* a, LogitsFile& b) {
  std::vector<double> ra, rb;
  for (uint64_t r = 0; r < b.rows(); ++r) {
    b.read_row(r, rb);
    if (a) {
      a->read_row(r, ra);
      s.add_logit_row(std::span<const double>(ra), std::span<const double>(rb));
    } else {
      s.add_candidate_row(std::span<const double>(rb));
    }
  }
}

}  // namespace

ParityReport compare_logit_files(const LogitFilesJob& job) {
  LogitsFile b(job.logits_b);
  std::optional<LogitsFile> a;
  ParitySetup setup;
  setup.a.name = job.baseline ? "baseline" : job.logits_a.string();
  setup.b.name = job.logits_b.string();
  setup.overrides = job.overrides;
  setup.precision = job.precision.value_or(PrecisionClass::F32);
  std::unique_ptr<ParitySession> s;
  if (job.baseline) {
    if (b.rows() != job.baseline->positions() || b.vocab() != job.baseline->vocab)
      throw bad_input("validate.logits_shape", {job.logits_b.string(), {}, {}},
                      fmt::format("{} rows of {} logits; the baseline has {} positions of {}", b.rows(), b.vocab(),
                                  job.baseline->positions(), job.baseline->vocab));
    s = std::make_unique<ParitySession>(setup, *job.baseline);
  } else {
    a.emplace(job.logits_a);
    if (a->sequences() != b.sequences() || a->rows_per_sequence() != b.rows_per_sequence() || a->vocab() != b.vocab())
      throw bad_input("validate.logits_shape", {job.logits_b.string(), {}, {}},
                      fmt::format("logits of {} x {} x {} vs {} x {} x {} in {}", b.sequences(), b.rows_per_sequence(),
                                  b.vocab(), a->sequences(), a->rows_per_sequence(), a->vocab(), job.logits_a.string()));
    if (job.tokens && job.tokens->size() != b.sequences())
      throw bad_input("validate.tokens", {job.logits_b.string(), {}, {}},
                      fmt::format("{} token sequences for {} sequences of logits", job.tokens->size(), b.sequences()));
    if (job.tokens) setup.tokens = *job.tokens;
    setup.sequences_without_tokens = b.sequences();
    setup.rows_per_sequence = b.rows_per_sequence();
    setup.vocab = b.vocab();
    s = std::make_unique<ParitySession>(setup);
  }
  if (!job.hidden_a.empty())
    for (auto& step : compare_hidden_files(job.hidden_a, job.hidden_b))
      s->add_hidden_step(std::move(step));
  add_rows(*s, a ? &*a : nullptr, b);
  return s->finish();
}

ParityBaseline baseline_from_logit_file(const std::filesystem::path& logits, const TokenSequences& tokens,
                                        uint32_t top_k) {
  LogitsFile f(logits);
  if (tokens.size() != f.sequences())
    throw bad_input("validate.tokens", {logits.string(), {}, {}},
                    fmt::format("{} token sequences for {} sequences of logits", tokens.size(), f.sequences()));
  BaselineBuilder builder(tokens, f.rows_per_sequence(), f.vocab(), top_k);
  std::vector<double> row;
  for (uint64_t r = 0; r < f.rows(); ++r) {
    f.read_row(r, row);
    builder.add_row(std::span<const double>(row));
  }
  return builder.finish();
}

}  // namespace supra
