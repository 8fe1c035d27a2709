#pragma once
// The exact key -> shape table the authors' constructor creates for a
// config, built from the data tables schema/sru/{sru,srupp}.json, and the
// strict check of a checkpoint against it (as load_state_dict(strict=True)).
#include <cstdint>
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/sru/config.hpp"

namespace supra::sru {

struct ExpectedTensor {
  std::string key;              // the authors' state-dict key
  std::vector<uint64_t> shape;
  std::string role;             // "cell.v", "attn.q", ... (schema/sru/*.json)
  std::string layout;           // "unit_interleaved", "gate_halves", "kv_halves" or ""
  int64_t layer = -1;           // -1 outside rnn_lst
};

// In the authors' state_dict() order.
std::vector<ExpectedTensor> expected_tensors(const Config& config);

// Throws bad_input("sru.201") listing every missing key, extra key and shape
// mismatch, with the hints of sru.md for checkpoints of other revisions;
// refuses adaptive-softmax (wt103 / lm1b) models by their keys ("sru.202").
void check_checkpoint(const Checkpoint& ckpt, const Config& config, const std::string& file);

// Keys of the adaptive input / adaptive softmax LMs (E/embedding.py).
bool is_adaptive_softmax_key(const std::string& key);

// The text of schema/sru/<kind>.json (embedded in the binary).
const std::string& table_text(Kind kind);

}  // namespace supra::sru
