#include "tools/sru_commands.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "validate/inputs.hpp"
#include "validate/weights.hpp"
#include "validate/sru/forward.hpp"

namespace supra::cli {

namespace sru = validate::sru;
using validate::Mat;

namespace {

Checkpoint one_tensor(const std::string& name, const std::vector<uint64_t>& shape, const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  Checkpoint c;
  c.format = "memory";
  c.tensors.push_back(std::make_shared<MemoryTensorSource>(TensorInfo{name, DType::F32, shape}, std::move(bytes)));
  return c;
}

void append(std::vector<float>& out, const Mat<float>& m) { out.insert(out.end(), m.data(), m.data() + m.size()); }

// The LM logits of one sequence in the form asked for.
Mat<float> sequence_logits(const sru::Model& m, const std::vector<uint32_t>& ids, uint64_t segment, bool same_length,
                           bool token_by_token) {
  if (!token_by_token) return sru::lm_logits(m, ids, segment, same_length);
  sru::DecodeState state = sru::start_decoding(m, segment, same_length);
  Mat<float> out(int64_t(ids.size()), m.out.rows());
  for (size_t t = 0; t < ids.size(); ++t) {
    const std::vector<float> row = sru::decode_step(m, state, ids[t]);
    out.row(int64_t(t)) = Eigen::Map<const Eigen::RowVectorXf>(row.data(), int64_t(row.size()));
  }
  return out;
}

uint64_t segment_of(const sru::Model& m, std::optional<uint64_t> asked) {
  if (asked) return *asked;
  return m.config.eval ? m.config.eval->segment : 0;
}

// --input X.npy ([B, T, input_size] or [T, input_size]) through a bare RNN.
int run_on_input(const sru::Model& m, const SruLogitsArgs& s) {
  const Checkpoint in = detect_input_format(s.input).read(s.input, {});
  if (in.tensors.size() != 1) throw bad_input("sru.401", {s.input, {}, {}}, "expected one array");
  const TensorInfo info = in.tensors[0]->info();
  const bool batched = info.shape.size() == 3;
  if ((info.shape.size() != 2 && !batched) || info.shape.back() != m.config.input_size)
    throw bad_input("sru.401", {s.input, info.name, {}},
                    "expected [B, T, " + std::to_string(m.config.input_size) + "] or [T, " +
                        std::to_string(m.config.input_size) + "] floats, got " + info.shape_string());
  const std::vector<float> x = validate::read_vector<float>(*in.tensors[0]);
  const uint64_t B = batched ? info.shape[0] : 1, T = info.shape[info.shape.size() - 2];
  std::vector<float> values;
  for (uint64_t b = 0; b < B; ++b) {
    const Mat<float> rows = Eigen::Map<const Mat<float>>(x.data() + b * T * m.config.input_size, int64_t(T),
                                                         int64_t(m.config.input_size));
    append(values, sru::rnn_forward(m, rows, sru::AttentionMask{}, nullptr));
  }
  std::vector<uint64_t> shape{T, m.config.output_size()};
  if (batched) shape.insert(shape.begin(), B);
  WriteOptions w;
  w.force = true;
  write_checkpoint(choose_output_format(s.out, ""), one_tensor("output", shape, values), s.out, w);
  fmt::print("wrote output [{}] float32 to {}\n", fmt::join(shape, ", "), s.out);
  return 0;
}

}  // namespace

bool is_sru_model(const ModelArgs& a) { return sru::is_sru_model(a.model, a.model_config); }

static sru::Model open_sru(const ModelArgs& a) {
  if (a.precision != "f32") throw usage_error("sru.usage", "SRU / SRU++ models run at --precision f32 only");
  return sru::open_model(a.model, a.model_config);
}

int run_sru_logits(const ModelArgs& a, const SruLogitsArgs& s) {
  const Format& out_format = choose_output_format(s.out, "");
  const sru::Model m = open_sru(a);
  if (!m.config.lm) {
    if (s.input.empty())
      throw usage_error("sru.usage", "this SRU model has no LM (lm is null in its config): give --input X.npy");
    return run_on_input(m, s);
  }
  if (!s.input.empty()) throw usage_error("sru.usage", "--input is for models without an LM; this one takes --tokens");
  const validate::TokenBatch tokens = choose_tokens(a, m.config.lm->vocab_size, "logits");
  validate::check_token_range(tokens, m.config.lm->vocab_size);
  const uint64_t segment = segment_of(m, s.segment);
  const bool same_length = m.config.eval ? m.config.eval->same_length : true;
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> values;
  uint64_t rows = 0;
  for (const auto& ids : tokens.sequences) {
    Mat<float> y = sequence_logits(m, ids, segment, same_length, a.form == "recurrent");
    if (s.last_only) y = y.bottomRows(1).eval();
    rows = uint64_t(y.rows());
    append(values, y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<uint64_t> shape{rows, m.config.lm->vocab_size};
  if (tokens.batched) shape.insert(shape.begin(), tokens.sequences.size());
  WriteOptions w;
  w.force = true;
  write_checkpoint(out_format, one_tensor("logits", shape, values), s.out, w);
  const uint64_t n = tokens.sequences.size() * tokens.sequences.front().size();
  fmt::print("wrote logits [{}] float32 to {} ({} tokens, {}, in {:.3f} s: {:.1f} tokens/s)\n", fmt::join(shape, ", "),
             s.out, n, segment ? fmt::format("segments of {}", segment) : std::string("whole sequence"), seconds,
             seconds > 0 ? double(n) / seconds : 0.0);
  return 0;
}

int run_sru_generate(const ModelArgs& a, uint64_t max_new, bool json, std::optional<uint64_t> segment_asked) {
  const sru::Model m = open_sru(a);
  if (!m.config.lm) throw usage_error("sru.usage", "generate needs an LM (lm is null in the SRU config)");
  const validate::TokenBatch tokens = choose_tokens(a, m.config.lm->vocab_size, "generate");
  if (tokens.sequences.size() != 1) throw usage_error("usage.tokens", "generate takes one prompt");
  validate::check_token_range(tokens, m.config.lm->vocab_size);
  const uint64_t segment = segment_of(m, segment_asked);
  sru::DecodeState state =
      sru::start_decoding(m, segment, m.config.eval ? m.config.eval->same_length : true);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  std::vector<float> row = sru::prefill(m, state, tokens.sequences[0]);
  const auto t1 = clock::now();
  std::vector<uint32_t> ids;
  for (uint64_t i = 0; i < max_new; ++i) {
    // argmax, first index on ties (torch.argmax)
    const uint32_t next = uint32_t(std::max_element(row.begin(), row.end()) - row.begin());
    ids.push_back(next);
    if (i + 1 < max_new) row = sru::decode_step(m, state, next);
  }
  const double prompt_s = std::chrono::duration<double>(t1 - t0).count();
  const double decode_s = std::chrono::duration<double>(clock::now() - t1).count();
  nlohmann::json j{{"prompt", tokens.sequences[0]}, {"new", ids}};
  j["prompt_tokens_per_s"] = prompt_s > 0 ? double(tokens.sequences[0].size()) / prompt_s : 0.0;
  j["decode_ms_per_token"] = max_new > 1 ? decode_s * 1000 / double(max_new - 1) : 0.0;
  if (json) fmt::print("{}\n", j.dump());
  else fmt::print("{}\n", fmt::join(ids, " "));
  return 0;
}

}  // namespace supra::cli
