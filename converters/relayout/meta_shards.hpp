#pragma once
// Meta tensor-parallel shards (consolidated.00.pth, .01, ...) merged into one
// checkpoint: each tensor is concatenated along the dim its role is split on
// (schema/conventions/meta.json "shard_dim": wq/wk/wv/w1/w3/output on 0, wo/w2
// on 1, tok_embeddings on 1 for Llama 1/2 and 0 for Llama 3, whose shards
// already have the full width), norms are replicated (shard 0 is taken).
// Works on any list of Checkpoints, whatever format they were read from.
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/model_spec.hpp"

namespace supra {

// Shards in order (sorted file names). Throws bad_input:
//   layout.201 shards do not hold the same tensor names
//   layout.202 a tensor's shards have shapes that do not concatenate
//   layout.203 tensors the Meta table has no rule for
Checkpoint merge_meta_shards(const std::vector<Checkpoint>& shards, const ModelSpec& spec);

}  // namespace supra
