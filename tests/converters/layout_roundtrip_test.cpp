// The re-layout plan on the built-in demo model (GQA: 4 heads, 2 kv heads):
// HF -> Meta / open_lm / GGUF -> HF is bit for bit, each target's tensors are
// where docs/conventions.md says, and every unmatched or missing tensor is reported.
#include <gtest/gtest.h>

#include <map>

#include "schema/relayout/convert_layout.hpp"
#include "schema/relayout/layout_ops.hpp"
#include "converters/relayout/meta_shards.hpp"
#include "schema/demo_model.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

ModelSpec demo_spec() {
  return spec_from_hf_config(nlohmann::json::parse(demo_config_json(DemoModelShape{}, DType::BF16)), "config.json");
}

std::map<std::string, std::vector<std::byte>> bytes_by_name(const Checkpoint& c) {
  std::map<std::string, std::vector<std::byte>> m;
  for (const auto& t : c.tensors) m[t->name()] = t->read_all();
  return m;
}

std::vector<std::byte> bytes_of(const Checkpoint& c, const std::string& name) {
  const TensorSource* t = c.find(name);
  if (!t) throw std::runtime_error("no tensor " + name);
  return t->read_all();
}

TensorPtr ptr_of(const Checkpoint& c, const std::string& name) {
  for (const auto& t : c.tensors)
    if (t->name() == name) return t;
  throw std::runtime_error("no tensor " + name);
}

std::string error_id(const std::function<void()>& f, std::string* detail = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (detail) *detail = e.detail();
    return e.id();
  }
  return "no error";
}

class LayoutRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(LayoutRoundTrip, HfToLayoutAndBackIsBitExact) {
  const ModelSpec spec = demo_spec();
  for (DType dt : {DType::BF16, DType::F32}) {
    const Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, dt, 7);
    const Convention& hf_c = find_convention("hf_llama");
    const Convention& other = convention_for(GetParam(), "llama");
    const Checkpoint there = convert_layout(hf, spec, hf_c, other);
    const Checkpoint back = convert_layout(there, spec, other, hf_c);
    EXPECT_TRUE(bytes_by_name(back) == bytes_by_name(hf));
    EXPECT_EQ(back.tensors.size(), hf.tensors.size());
    EXPECT_EQ(&detect_convention(there, "llama"), &other);
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, LayoutRoundTrip, ::testing::Values("meta", "gguf", "open_lm"));

TEST(LayoutPlan, MetaHasPermutedQkAndMetaNames) {
  const ModelSpec spec = demo_spec();
  const Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::F32);
  const Checkpoint meta = convert_layout(hf, spec, find_convention("hf_llama"), find_convention("meta"));
  EXPECT_EQ(bytes_of(meta, "layers.1.attention.wq.weight"),
            permute_rope_halves_to_pairs(ptr_of(hf, "model.layers.1.self_attn.q_proj.weight"), 4, "x")->read_all());
  // k uses the kv head count (2), not the head count: pitfall 7.
  const TensorPtr k = ptr_of(hf, "model.layers.0.self_attn.k_proj.weight");
  EXPECT_EQ(bytes_of(meta, "layers.0.attention.wk.weight"), permute_rope_halves_to_pairs(k, 2, "x")->read_all());
  EXPECT_NE(bytes_of(meta, "layers.0.attention.wk.weight"), permute_rope_halves_to_pairs(k, 4, "x")->read_all());
  // V, O and the MLP are untouched; Meta's w3 is UP, w2 is DOWN.
  EXPECT_EQ(bytes_of(meta, "layers.0.attention.wv.weight"), bytes_of(hf, "model.layers.0.self_attn.v_proj.weight"));
  EXPECT_EQ(bytes_of(meta, "layers.0.feed_forward.w3.weight"), bytes_of(hf, "model.layers.0.mlp.up_proj.weight"));
  EXPECT_EQ(bytes_of(meta, "layers.0.feed_forward.w2.weight"), bytes_of(hf, "model.layers.0.mlp.down_proj.weight"));
  EXPECT_EQ(bytes_of(meta, "output.weight"), bytes_of(hf, "lm_head.weight"));
  EXPECT_EQ(bytes_of(meta, "tok_embeddings.weight"), bytes_of(hf, "model.embed_tokens.weight"));
}

TEST(LayoutPlan, OpenLmFusesQkvAndGateUpAndW3IsDown) {
  const ModelSpec spec = demo_spec();
  const Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::BF16);
  const Checkpoint ol = convert_layout(hf, spec, find_convention("hf_llama"), find_convention("open_lm"));
  const TensorSource* in_proj = ol.find("layers.0.attention.in_proj.weight");
  ASSERT_TRUE(in_proj);
  EXPECT_EQ(in_proj->info().shape, (std::vector<uint64_t>{64 + 32 + 32, 64}));
  auto cat = [&](std::vector<std::string> names) {
    std::vector<std::byte> out;
    for (const auto& n : names) {
      const auto b = bytes_of(hf, n);
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  };
  const std::string p = "model.layers.0.";
  EXPECT_EQ(in_proj->read_all(), cat({p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"}));
  EXPECT_EQ(bytes_of(ol, "layers.0.feed_forward.w12.weight"), cat({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}));
  EXPECT_EQ(bytes_of(ol, "layers.0.feed_forward.w3.weight"), bytes_of(hf, p + "mlp.down_proj.weight"));
  // open_lm with llama_rotary keeps Meta's interleaved rows.
  ModelSpec interleaved = spec;
  interleaved.rope_layout = RopeLayout::Interleaved;
  const Checkpoint ol2 = convert_layout(hf, interleaved, find_convention("hf_llama"), find_convention("open_lm"));
  const Checkpoint meta = convert_layout(hf, spec, find_convention("hf_llama"), find_convention("meta"));
  const auto fused = bytes_of(ol2, "layers.1.attention.in_proj.weight");
  const auto wq = bytes_of(meta, "layers.1.attention.wq.weight");
  EXPECT_TRUE(std::equal(wq.begin(), wq.end(), fused.begin()));
}

TEST(LayoutPlan, UnmatchedSourceTensorsAreAllListed) {
  Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::F32);
  hf.tensors.push_back(test::make_tensor("model.layers.0.self_attn.q_proj.lora_A", DType::F32, {2, 2}));
  hf.tensors.push_back(test::make_tensor("model.layers.9.mlp.up_proj.weight", DType::F32, {2, 2}));  // layer 9 of 2
  std::string detail;
  EXPECT_EQ(error_id([&] { convert_layout(hf, demo_spec(), find_convention("hf_llama"), find_convention("meta")); }, &detail),
            "layout.001");
  EXPECT_NE(detail.find("model.layers.0.self_attn.q_proj.lora_A"), std::string::npos) << detail;
  EXPECT_NE(detail.find("model.layers.9.mlp.up_proj.weight"), std::string::npos) << detail;
  EXPECT_NE(detail.find("2 tensor(s)"), std::string::npos) << detail;
}

TEST(LayoutPlan, IgnoredBuffersAreSkipped) {
  Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::F32);
  hf.tensors.push_back(test::make_tensor("model.layers.1.self_attn.rotary_emb.inv_freq", DType::F32, {8}));
  const Checkpoint meta = convert_layout(hf, demo_spec(), find_convention("hf_llama"), find_convention("meta"));
  EXPECT_EQ(meta.tensors.size(), 21u);
}

TEST(LayoutPlan, MissingRequiredTensorsAreAllListed) {
  Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::F32);
  std::erase_if(hf.tensors, [](const TensorPtr& t) {
    return t->name() == "model.layers.1.mlp.up_proj.weight" || t->name() == "model.norm.weight";
  });
  std::string detail;
  EXPECT_EQ(error_id([&] { convert_layout(hf, demo_spec(), find_convention("hf_llama"), find_convention("gguf_llama")); }, &detail),
            "layout.002");
  EXPECT_NE(detail.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << detail;
  EXPECT_NE(detail.find("model.norm.weight"), std::string::npos) << detail;
}

TEST(LayoutPlan, TiedOutputIsTheEmbeddingAndOmittedWhereAllowed) {
  Checkpoint hf = make_demo_checkpoint(DemoModelShape{}, DType::F32);
  std::erase_if(hf.tensors, [](const TensorPtr& t) { return t->name() == "lm_head.weight"; });
  const ModelSpec spec = demo_spec();
  const Checkpoint meta = convert_layout(hf, spec, find_convention("hf_llama"), find_convention("meta"));
  EXPECT_EQ(bytes_of(meta, "output.weight"), bytes_of(hf, "model.embed_tokens.weight"));
  const Checkpoint gguf = convert_layout(hf, spec, find_convention("hf_llama"), find_convention("gguf_llama"));
  EXPECT_FALSE(gguf.find("output.weight"));
  EXPECT_EQ(gguf.tensors.size(), 20u);
  const Checkpoint back = convert_layout(gguf, spec, find_convention("gguf_llama"), find_convention("hf_llama"));
  EXPECT_FALSE(back.find("lm_head.weight"));
}

TEST(LayoutPlan, ShapeMismatchWithConfigIsReported) {
  ModelSpec spec = demo_spec();
  spec.ffn = 100;
  EXPECT_EQ(error_id([&] {
              convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::F32), spec, find_convention("hf_llama"),
                             find_convention("meta"));
            }),
            "layout.005");
  // open_lm in_proj rows not matching the spec's heads.
  const Checkpoint ol = convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::F32), demo_spec(),
                                       find_convention("hf_llama"), find_convention("open_lm"));
  ModelSpec wrong = demo_spec();
  wrong.kv_heads = 4;
  EXPECT_EQ(error_id([&] { convert_layout(ol, wrong, find_convention("open_lm"), find_convention("hf_llama")); }), "layout.004");
}

TEST(LayoutPlan, TargetWithoutANameIsAnError) {
  // Qwen2 biases have no Meta name (and Meta does not cover qwen2 at all).
  ModelSpec spec = demo_spec();
  spec.architecture = "qwen2";
  EXPECT_EQ(error_id([&] {
              convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::F32), spec, find_convention("hf_llama"),
                             find_convention("meta"));
            }),
            "layout.008");
  // rope_freqs (GGUF only) has no HF name.
  Checkpoint gguf = convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::F32), demo_spec(),
                                   find_convention("hf_llama"), find_convention("gguf_llama"));
  gguf.tensors.push_back(test::make_tensor("rope_freqs.weight", DType::F32, {8}));
  std::string detail;
  EXPECT_EQ(error_id([&] { convert_layout(gguf, demo_spec(), find_convention("gguf_llama"), find_convention("hf_llama")); }, &detail),
            "layout.006");
  EXPECT_NE(detail.find("rope_freqs.weight"), std::string::npos);
}

TEST(LayoutPlan, AliasAndNameBothPresentIsAnError) {
  Checkpoint ol = convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::F32), demo_spec(),
                                 find_convention("hf_llama"), find_convention("open_lm"));
  ol.tensors.push_back(renamed(ol.tensors[0], "module." + ol.tensors[0]->name()));  // DDP prefix copy
  EXPECT_EQ(error_id([&] { convert_layout(ol, demo_spec(), find_convention("open_lm"), find_convention("hf_llama")); }),
            "layout.003");
}

// Meta tensor-parallel shards, made by slicing the Meta layout along each
// table's shard dim, merge back into the original.
TEST(MetaShards, SplitThenMergeIsIdentity) {
  const ModelSpec spec = demo_spec();
  const Checkpoint meta = convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::BF16), spec,
                                         find_convention("hf_llama"), find_convention("meta"));
  const Convention& table = find_convention("meta");
  const NameResolver resolver(table, spec.layers);
  for (bool llama3_embedding : {false, true}) {
    std::vector<Checkpoint> shards(2);
    for (const auto& t : meta.tensors) {
      const auto m = resolver.resolve(t->name());
      ASSERT_TRUE(m && m->entry) << t->name();
      if (!m->entry->shard_dim) {
        for (auto& s : shards) s.tensors.push_back(t);
        continue;
      }
      size_t dim = size_t(*m->entry->shard_dim);
      if (llama3_embedding && m->entry->id == "embed.weight") dim = 0;
      const uint64_t half = t->info().shape[dim] / 2;
      shards[0].tensors.push_back(slice(t, dim, 0, half, t->name()));
      shards[1].tensors.push_back(slice(t, dim, half, t->info().shape[dim] - half, t->name()));
    }
    EXPECT_NE(shards[0].find("layers.0.attention.wo.weight")->info().shape[1], 64u);
    const Checkpoint merged = merge_meta_shards(shards, spec);
    EXPECT_TRUE(bytes_by_name(merged) == bytes_by_name(meta)) << "llama3 embedding: " << llama3_embedding;
  }
}

TEST(MetaShards, MismatchedShardsAreReported) {
  const ModelSpec spec = demo_spec();
  const Checkpoint meta = convert_layout(make_demo_checkpoint(DemoModelShape{}, DType::BF16), spec,
                                         find_convention("hf_llama"), find_convention("meta"));
  std::vector<Checkpoint> shards = {meta, meta};
  shards[1].tensors.pop_back();
  EXPECT_EQ(error_id([&] { merge_meta_shards(shards, spec); }), "layout.201");
  shards = {meta, meta};
  shards[1].tensors[1] = test::make_tensor(meta.tensors[1]->name(), DType::BF16, {3});  // a replicated norm
  EXPECT_EQ(error_id([&] { merge_meta_shards(shards, spec); }), "layout.202");
  shards = {meta, meta};
  for (auto& s : shards) s.tensors.push_back(test::make_tensor("extra", DType::BF16, {3}));
  EXPECT_EQ(error_id([&] { merge_meta_shards(shards, spec); }), "layout.203");
}

// GPT-2 and GPT-NeoX against a test-only "canonical" convention that names
// every role directly: unpacking c_attn / query_key_value must give the q, k,
// v matrices of HF's modeling_gpt2.py (Conv1D c_attn) / modeling_gpt_neox.py (per-head interleaved query_key_value).
Convention canonical_convention(const std::string& arch) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& t : find_architecture(arch).tensors)
    tensors[t.id] = t.per_layer ? "L{bid}." + t.id : t.id;
  return parse_convention({{"convention", "canonical"}, {"layout", "canonical"}, {"architectures", {arch}},
                           {"rope", "rotate_half"}, {"tensors", tensors}},
                          "test");
}

TEST(LayoutPlan, Gpt2ConvOneDTransposedAndCAttnSplit) {
  ModelSpec spec = spec_from_hf_config(
      {{"model_type", "gpt2"}, {"n_embd", 8}, {"n_layer", 1}, {"n_head", 2}, {"vocab_size", 11}, {"n_positions", 5}},
      "config.json");
  const uint64_t E = 8;
  Checkpoint g;
  auto add = [&](const std::string& n, std::vector<uint64_t> shape) { g.tensors.push_back(test::make_tensor(n, DType::F32, shape, uint32_t(g.tensors.size() + 1))); };
  add("wte.weight", {11, E});
  add("wpe.weight", {5, E});
  add("h.0.ln_1.weight", {E});
  add("h.0.ln_1.bias", {E});
  add("h.0.attn.c_attn.weight", {E, 3 * E});
  add("h.0.attn.c_attn.bias", {3 * E});
  add("h.0.attn.c_proj.weight", {E, E});
  add("h.0.attn.c_proj.bias", {E});
  add("h.0.ln_2.weight", {E});
  add("h.0.ln_2.bias", {E});
  add("h.0.mlp.c_fc.weight", {E, 4 * E});
  add("h.0.mlp.c_fc.bias", {4 * E});
  add("h.0.mlp.c_proj.weight", {4 * E, E});
  add("h.0.mlp.c_proj.bias", {E});
  add("ln_f.weight", {E});
  add("ln_f.bias", {E});
  add("h.0.attn.bias", {1, 1, 5, 5});  // the causal-mask buffer: ignored
  const Convention canon = canonical_convention("gpt2");
  const Checkpoint c = convert_layout(g, spec, find_convention("hf_gpt2"), canon);
  // attn_k = columns [E, 2E) of c_attn, as rows.
  std::vector<float> w(E * 3 * E), k(E * E);
  const auto wb = g.find("h.0.attn.c_attn.weight")->read_all();
  std::memcpy(w.data(), wb.data(), wb.size());
  const auto kb = c.find("L0.attn_k.weight")->read_all();
  std::memcpy(k.data(), kb.data(), kb.size());
  for (uint64_t out = 0; out < E; ++out)
    for (uint64_t in = 0; in < E; ++in) EXPECT_EQ(k[out * E + in], w[in * 3 * E + E + out]);
  EXPECT_EQ(c.find("L0.ffn_up.weight")->info().shape, (std::vector<uint64_t>{4 * E, E}));
  EXPECT_EQ(c.find("output.weight")->read_all(), g.find("wte.weight")->read_all());  // tied
  // And back without the output (tied again): the same bytes, mask buffer dropped as ignored.
  Checkpoint untied = c;
  std::erase_if(untied.tensors, [](const TensorPtr& t) { return t->name() == "output.weight"; });
  const Checkpoint back = convert_layout(untied, spec, canon, find_convention("hf_gpt2"));
  auto expected = bytes_by_name(g);
  expected.erase("h.0.attn.bias");
  EXPECT_TRUE(bytes_by_name(back) == expected);
}

TEST(LayoutPlan, NeoxQueryKeyValueDeinterleavedPerHead) {
  const ModelSpec spec = spec_from_hf_config({{"model_type", "gpt_neox"}, {"hidden_size", 8}, {"num_hidden_layers", 1},
                                              {"num_attention_heads", 2}, {"intermediate_size", 16}, {"vocab_size", 10}},
                                             "config.json");
  const uint64_t E = 8, hd = 4;
  Checkpoint n;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) { n.tensors.push_back(test::make_tensor(name, DType::F32, shape, uint32_t(n.tensors.size() + 1))); };
  const std::string p = "gpt_neox.layers.0.";
  add("gpt_neox.embed_in.weight", {10, E});
  for (const char* norm : {"input_layernorm", "post_attention_layernorm"}) {
    add(p + norm + ".weight", {E});
    add(p + norm + ".bias", {E});
  }
  add(p + "attention.query_key_value.weight", {3 * E, E});
  add(p + "attention.query_key_value.bias", {3 * E});
  add(p + "attention.dense.weight", {E, E});
  add(p + "attention.dense.bias", {E});
  add(p + "mlp.dense_h_to_4h.weight", {16, E});
  add(p + "mlp.dense_h_to_4h.bias", {16});
  add(p + "mlp.dense_4h_to_h.weight", {E, 16});
  add(p + "mlp.dense_4h_to_h.bias", {E});
  add("gpt_neox.final_layer_norm.weight", {E});
  add("gpt_neox.final_layer_norm.bias", {E});
  add("embed_out.weight", {10, E});
  const Convention canon = canonical_convention("gpt_neox");
  const Checkpoint c = convert_layout(n, spec, find_convention("hf_gpt_neox"), canon);
  // v of head 1 = fused rows [1*3hd + 2hd, 1*3hd + 3hd).
  const auto fused = n.find(p + "attention.query_key_value.bias")->read_all();
  const auto v = c.find("L0.attn_v.bias")->read_all();
  const size_t row = 4;  // f32 bias "rows" are single elements
  EXPECT_TRUE(std::equal(v.begin() + hd * row, v.end(), fused.begin() + (3 * hd + 2 * hd) * row));
  EXPECT_TRUE(std::equal(v.begin(), v.begin() + hd * row, fused.begin() + 2 * hd * row));
  const Checkpoint back = convert_layout(c, spec, canon, find_convention("hf_gpt_neox"));
  EXPECT_TRUE(bytes_by_name(back) == bytes_by_name(n));
}

}  // namespace
}  // namespace supra
