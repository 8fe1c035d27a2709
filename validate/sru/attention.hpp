#pragma once
// SRU++'s attention sub-module after its query projection (sru.md section 3):
// the heads, the additive mask, the rezero residual, the LN and W_o.
#include "validate/sru/forward.hpp"

namespace supra::validate::sru {

// z [T, P] (the queries, also the residual), kv [n, 2P] (keys | values of
// [memory ; x~]), query row i at global key index first_query + i.
// Returns U = LN(alpha * softmax(z hd^-0.5 k^T + mask) v + z) W_o^T, [T, O*k].
Mat<float> attention_output(const Layer& layer, uint64_t heads, const Mat<float>& z, const Mat<float>& kv,
                            uint64_t first_query, const AttentionMask& mask);

}  // namespace supra::validate::sru
