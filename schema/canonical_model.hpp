#pragma once
// A model as the forward pass and the linearizer see it: the spec plus its
// weights reached by canonical id and layer ("attn_q.weight", layer 3), in
// one orientation (torch [out, in], q/k rows rotate-half, nothing fused, a
// tied output present as its own tensor). No file name, naming convention or
// RoPE layout reaches code that holds one of these.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "schema/checkpoint.hpp"
#include "schema/model_spec.hpp"

namespace supra {

struct CanonicalModel {
  ModelSpec spec;
  Checkpoint checkpoint;  // tensors named by the "canonical" convention (schema/conventions/canonical.json)
  std::string source_convention;  // the convention the file used ("hf_llama"), for reports

  // nullptr when the tensor is absent (an optional tensor such as a bias).
  TensorPtr global(const std::string& id) const;
  TensorPtr layer(uint64_t layer, const std::string& id) const;
  // As above, but a missing tensor is an error naming it.
  TensorPtr require_global(const std::string& id) const;
  TensorPtr require_layer(uint64_t layer, const std::string& id) const;

  // Indexes `checkpoint` by name; call after filling it.
  void index();

 private:
  std::map<std::string, TensorPtr> by_name_;
};

// The canonical file name of a tensor: "embed.weight", "layers.3.attn_q.weight".
std::string canonical_name(const std::string& id, std::optional<uint64_t> layer);

}  // namespace supra
