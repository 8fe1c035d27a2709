#pragma once
// The re-layout plan: a checkpoint named and laid out by one convention
// (HF, Meta, GGUF, open_lm, ...) becomes the same model in another, as lazy
// sources (rename, RoPE row permutation, fused split/merge, transpose, tied
// output). The path is always source -> canonical roles -> target, so adding a
// convention is adding one table, not a pair of converters.
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/model_spec.hpp"
#include "schema/naming_table.hpp"

namespace supra {

// Throws bad_input with one id per problem, each listing *every* offending name:
//   layout.001 source tensors no rule of `from` matches (never a silent drop)
//   layout.002 required tensors missing after the re-layout
//   layout.003 a tensor present twice (name and alias)
//   layout.004 a fused tensor whose rows do not match the spec
//   layout.005 a tensor whose shape does not match the spec
//   layout.006 tensors the target convention has no name for
//   layout.007 a fused target tensor with some of its parts missing
//   layout.008 a convention that does not cover the spec's architecture
Checkpoint convert_layout(const Checkpoint& in, const ModelSpec& spec, const Convention& from, const Convention& to);

// The convention (among those covering `architecture`) that matches the most
// tensor names; throws bad_input(layout.009) when none or several tie.
const Convention& detect_convention(const Checkpoint& ckpt, const std::string& architecture);
// The probe beside it: nullptr where detect_convention throws.
const Convention* best_matching_convention(const Checkpoint& ckpt, const std::string& architecture);

}  // namespace supra
