#include "validate/model_parity.hpp"

#include <span>

#include "schema/error.hpp"
#include "converters/open_model.hpp"
#include "validate/forward.hpp"
#include "validate/model_storage.hpp"
#include "validate/parity_session.hpp"

namespace supra::validate {
namespace {

template <class S>
std::span<const S> row_of(const Mat<S>& m, Eigen::Index r) {
  return {m.data() + r * m.cols(), size_t(m.cols())};
}

template <class S>
std::span<const S> all_of(const Mat<S>& m) {
  return {m.data(), size_t(m.size())};
}

// One model's forward pass, driven step by step by the caller. A single
// LayerState is reused (cleared) for every layer: nothing is decoded
// afterwards, so no layer's keys and values need to outlive it.
template <class S>
struct Stepper {
  Forward<S> f;
  LayerState<S> state;
  Stepper(const Model& m, ThreadPool& pool) : f(m, pool) {}
  void attention(uint64_t l) {
    state.clear();
    f.attention_step(l, state);
  }
};

void check_comparable(const Model& a, const Model& b, const ModelParityJob& job) {
  if (a.spec().vocab != b.spec().vocab)
    throw bad_input("validate.101", {job.b.string(), {}, {}},
                    "vocabulary of " + std::to_string(b.spec().vocab) + " tokens, but " + job.a.string() + " has " +
                        std::to_string(a.spec().vocab) + ": the models cannot be compared token by token");
}

template <class S>
ParityReport compare_as(const Model& a, const Model& b, ParitySession& session, const ModelParityJob& job) {
  ThreadPool pool(job.threads);
  const bool per_layer = a.spec().layers == b.spec().layers && a.spec().hidden == b.spec().hidden;
  for (size_t seq = 0; seq < job.tokens.sequences.size(); ++seq) {
    const std::vector<uint32_t>& ids = job.tokens.sequences[seq];
    Stepper<S> sa(a, pool), sb(b, pool);
    sa.f.embed(ids, 0);
    sb.f.embed(ids, 0);
    // Hidden states are compared on the first sequence: where two models
    // part does not depend on which sample shows it.
    const bool compare_hidden = per_layer && seq == 0;
    const uint64_t rows = ids.size();
    for (uint64_t l = 0; l < std::max(a.spec().layers, b.spec().layers); ++l) {
      if (l < a.spec().layers) sa.attention(l);
      if (l < b.spec().layers) sb.attention(l);
      if (compare_hidden)
        session.add_hidden(l, "attn", all_of(sa.f.hidden()), all_of(sb.f.hidden()), rows, a.spec().hidden);
      if (l < a.spec().layers) sa.f.mlp_step(l);
      if (l < b.spec().layers) sb.f.mlp_step(l);
      if (compare_hidden)
        session.add_hidden(l, "mlp", all_of(sa.f.hidden()), all_of(sb.f.hidden()), rows, a.spec().hidden);
    }
    sa.f.final_norm();
    sb.f.final_norm();
    const Mat<S>& za = sa.f.logits(false);
    const Mat<S>& zb = sb.f.logits(false);
    for (Eigen::Index r = 0; r < za.rows(); ++r) session.add_logit_row(row_of(za, r), row_of(zb, r));
  }
  return session.finish();
}

template <class S>
ParityReport compare_to_baseline(const Model& b, ParitySession& session, const ModelParityJob& job) {
  ThreadPool pool(job.threads);
  for (const auto& ids : job.tokens.sequences) {
    Forward<S> f(b, pool);
    DecodeState<S> state(b.spec().layers);
    const Mat<S>& z = forward_tokens(f, state, std::span<const uint32_t>(ids), false);
    for (Eigen::Index r = 0; r < z.rows(); ++r) session.add_candidate_row(row_of(z, r));
  }
  return session.finish();
}

ParitySetup setup_for(const ModelParityJob& job, const OpenedModel* a, const OpenedModel& b) {
  ParitySetup setup;
  if (a) setup.a = {job.a.string(), a->storage_types};
  setup.b = {job.b.string(), b.storage_types};
  setup.tokens = as_token_sequences(job.tokens);
  setup.rows_per_sequence = job.tokens.sequences.front().size();
  setup.vocab = b.model.spec.vocab;
  setup.overrides = job.overrides;
  setup.precision = job.tolerance_basis;
  return setup;
}

}  // namespace

ParityReport compare_models(const ModelParityJob& job) {
  OpenedModel opened_b = open_model_with_storage(job.b, job.request_b);
  if (job.baseline) {
    ParitySetup setup = setup_for(job, nullptr, opened_b);
    setup.a = {"baseline", {}};
    Model b(std::move(opened_b.model));
    b.supra_form = job.form_b;
    check_token_range(job.tokens, b.spec().vocab);
    ParitySession session(setup, *job.baseline);
    return job.precision == Precision::F64 ? compare_to_baseline<double>(b, session, job)
                                           : compare_to_baseline<float>(b, session, job);
  }
  OpenedModel opened_a = open_model_with_storage(job.a, job.request_a);
  ParitySetup setup = setup_for(job, &opened_a, opened_b);
  Model a(std::move(opened_a.model));
  Model b(std::move(opened_b.model));
  a.supra_form = job.form_a;
  b.supra_form = job.form_b;
  check_comparable(a, b, job);
  check_token_range(job.tokens, a.spec().vocab);
  ParitySession session(setup);
  return job.precision == Precision::F64 ? compare_as<double>(a, b, session, job)
                                         : compare_as<float>(a, b, session, job);
}

ParityBaseline baseline_of_model(const std::filesystem::path& path, const LayoutRequest& request, const TokenBatch& tokens,
                                 Precision precision, int threads, uint32_t top_k) {
  const Model m(open_canonical_model(path, request));
  check_token_range(tokens, m.spec().vocab);
  LogitsOptions options;
  options.precision = precision;
  options.threads = threads;
  const LogitsResult r = compute_logits(m, tokens, options);
  BaselineBuilder builder(as_token_sequences(tokens), tokens.sequences.front().size(), m.spec().vocab, top_k);
  const std::vector<std::byte> bytes = r.logits.tensors.at(0)->read_all();
  const uint64_t vocab = m.spec().vocab, rows = bytes.size() / vocab / (precision == Precision::F64 ? 8 : 4);
  for (uint64_t row = 0; row < rows; ++row) {
    if (precision == Precision::F64)
      builder.add_row(std::span<const double>(reinterpret_cast<const double*>(bytes.data()) + row * vocab, vocab));
    else
      builder.add_row(std::span<const float>(reinterpret_cast<const float*>(bytes.data()) + row * vocab, vocab));
  }
  return builder.finish();
}

}  // namespace supra::validate
