// The architecture / convention tables: the built-in ones load and agree with
// each other, malformed tables are rejected with the JSON path, and names
// resolve to roles with layer numbers, aliases, prefixes and ignored buffers.
#include "schema/naming_table.hpp"

#include <gtest/gtest.h>

#include "schema/error.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

json minimal_convention() {
  return json::parse(R"({"convention": "t", "layout": "t", "architectures": ["llama"], "rope": "rotate_half",
                         "tensors": {"embed.weight": "emb", "attn_q.weight": {"name": "l.{bid}.q"}}})");
}

// Parses `j` expecting an error; returns "id|detail".
std::string convention_error(const json& j) {
  try {
    parse_convention(j, "t.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, "t.json");
    return e.id() + "|" + e.detail();
  }
  return "no error";
}

TEST(NamingTable, BuiltInTablesLoad) {
  EXPECT_GE(all_architectures().size(), 4u);
  EXPECT_GE(all_conventions().size(), 7u);
  for (const char* c : {"hf_llama", "hf_gpt2", "hf_gpt_neox", "meta", "gguf_llama", "gguf_qwen2", "open_lm"})
    EXPECT_NO_THROW(find_convention(c)) << c;
  EXPECT_EQ(convention_for("hf", "gpt2").name, "hf_gpt2");
  EXPECT_EQ(convention_for("gguf", "qwen2").name, "gguf_qwen2");
  EXPECT_EQ(architecture_for_model_type("mistral")->name, "llama");
  EXPECT_EQ(architecture_for_model_type("bert"), nullptr);
  EXPECT_THROW(convention_for("meta", "gpt2"), Error);
  EXPECT_THROW(find_convention("nope"), Error);
}

TEST(NamingTable, OpenLmW3IsDownAndMetaW3IsUp) {
  // open_lm/model.py SwiGLU: w12 = [gate; up], w3 = down; Meta's w3 = up.
  EXPECT_EQ(find_convention("open_lm").find("ffn_down.weight")->name, "layers.{bid}.feed_forward.w3.weight");
  EXPECT_EQ(find_convention("meta").find("ffn_up.weight")->name, "layers.{bid}.feed_forward.w3.weight");
  const ConventionEntry* w12 = find_convention("open_lm").find("ffn_gate_up.weight");
  ASSERT_TRUE(w12);
  EXPECT_EQ(w12->fuses, (std::vector<std::string>{"ffn_gate.weight", "ffn_up.weight"}));
}

TEST(NamingTable, MinimalConventionParses) {
  const Convention c = parse_convention(minimal_convention(), "t.json");
  EXPECT_EQ(c.entries.size(), 2u);
  EXPECT_TRUE(c.find("attn_q.weight")->per_layer());
  EXPECT_FALSE(c.find("embed.weight")->per_layer());
}

TEST(NamingTable, UnknownKeysAreRejectedWithTheirPath) {
  json j = minimal_convention();
  j["colour"] = "blue";
  EXPECT_EQ(convention_error(j), "schema.302|at /colour: unknown key 'colour'");
  j = minimal_convention();
  j["tensors"]["attn_q.weight"]["nmae"] = "x";
  EXPECT_EQ(convention_error(j), "schema.302|at /tensors/attn_q.weight/nmae: unknown key 'nmae'");
  json a = json::parse(R"({"architecture": "x", "global": [{"tensor": "a.weight", "shape": ["hidden"], "tide_to": "b"}], "layer": []})");
  try {
    parse_architecture(a, "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "schema.302");
    EXPECT_EQ(e.detail(), "at /global/0/tide_to: unknown key 'tide_to'");
  }
}

TEST(NamingTable, MalformedEntriesAreRejectedWithTheirPath) {
  json j = minimal_convention();
  j["rope"] = "sideways";
  EXPECT_EQ(convention_error(j).substr(0, 20), "schema.305|at /rope:");
  j = minimal_convention();
  j["tensors"]["attn_q.weight"] = 3;
  EXPECT_EQ(convention_error(j).substr(0, 39), "schema.304|at /tensors/attn_q.weight: e");
  j = minimal_convention();
  j["tensors"]["attn_q.weight"] = "l.{layer}.q";
  EXPECT_EQ(convention_error(j).substr(0, 38), "schema.305|at /tensors/attn_q.weight: ");
  j = minimal_convention();
  j["tensors"]["attn_qkv.weight"] = {{"name", "qkv.{bid}"}, {"fuses", {"attn_k.weight", "attn_v.weight"}}};
  EXPECT_EQ(convention_error(j).substr(0, 10), "schema.305");
  j = minimal_convention();
  j["tensors"]["attn_k.weight"] = "l.{bid}.q";  // two ids, one name
  EXPECT_EQ(convention_error(j).substr(0, 10), "schema.306");
  j = minimal_convention();
  j.erase("rope");
  EXPECT_EQ(convention_error(j), "schema.303|at /: missing required key 'rope'");
  j = minimal_convention();
  j["tensors"]["attn_q.weight"]["shard_dim"] = -1;
  EXPECT_EQ(convention_error(j).substr(0, 47), "schema.304|at /tensors/attn_q.weight/shard_dim:");
}

TEST(NamingTable, IdsMustExistInTheArchitecture) {
  json j = minimal_convention();
  j["tensors"]["attn_z.weight"] = "l.{bid}.z";
  const Convention c = parse_convention(j, "t.json");
  try {
    check_convention_against(c, {&find_architecture("llama")}, "t.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "schema.307");
    EXPECT_EQ(e.detail().substr(0, 27), "at /tensors/attn_z.weight: ");
  }
  j = minimal_convention();
  j["tensors"]["embed.weight"] = "emb.{bid}";  // global tensor with a layer placeholder
  EXPECT_THROW(check_convention_against(parse_convention(j, "t.json"), {&find_architecture("llama")}, "t.json"), Error);
}

TEST(NamingTable, ResolverMapsNamesToRolesAndLayers) {
  const NameResolver r(find_convention("hf_llama"), 3);
  auto m = r.resolve("model.layers.2.self_attn.k_proj.weight");
  ASSERT_TRUE(m && m->entry);
  EXPECT_EQ(m->entry->id, "attn_k.weight");
  EXPECT_EQ(m->layer, 2u);
  EXPECT_FALSE(r.resolve("model.layers.3.self_attn.k_proj.weight"));  // only 3 layers
  EXPECT_FALSE(r.resolve("model.layers.02.self_attn.k_proj.weight"));
  m = r.resolve("model.layers.0.self_attn.rotary_emb.inv_freq");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry, nullptr);  // ignored buffer
  const NameResolver ol(find_convention("open_lm"), 1);
  m = ol.resolve("module.layers.0.feed_forward.w3.weight");  // DDP prefix (pitfall 14)
  ASSERT_TRUE(m && m->entry);
  EXPECT_EQ(m->entry->id, "ffn_down.weight");
  EXPECT_EQ(NameResolver::expand("blk.{bid}.attn_q.weight", 7), "blk.7.attn_q.weight");
}

TEST(NamingTable, CountMatchingNamesForDetection) {
  const std::vector<std::string> names = {"layers.0.attention.wq.weight", "layers.11.feed_forward.w1.weight",
                                          "tok_embeddings.weight", "model.norm.weight"};
  EXPECT_EQ(count_matching_names(find_convention("meta"), names), 3u);
  EXPECT_EQ(count_matching_names(find_convention("hf_llama"), names), 1u);
}

// The smallest architecture with both model sections.
json minimal_architecture() {
  return json::parse(R"({"architecture": "x",
    "forward": {"norm": "rms_norm", "ffn_kind": "swiglu", "positions": "rope"},
    "hf_config": {"model_types": [{"model_type": "x", "class": "XForCausalLM"}],
                  "fields": {"hidden": "hidden_size", "heads": "n_heads",
                             "head_dim": {"key": "head_dim", "default": "hidden / heads"},
                             "ffn_kind": {"key": "hidden_act", "values": {"swiglu": "silu"}}}},
    "global": [{"tensor": "embed.weight", "shape": ["vocab", "hidden"]}], "layer": []})");
}

std::string architecture_error(const json& j) {
  try {
    parse_architecture(j, "x.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, "x.json");
    return e.id() + "|" + e.detail();
  }
  return "no error";
}

TEST(NamingTable, ArchitecturesStateTheirForwardPass) {
  // The facts each built-in table gives every reader (HF defaults as transformers' config classes state them).
  const Architecture& neox = find_architecture("gpt_neox");
  EXPECT_EQ(neox.forward.at("parallel_residual"), true);
  EXPECT_EQ(neox.forward.at("rotary_pct"), 0.25);
  EXPECT_EQ(neox.forward.at("ffn_kind"), "gelu");
  const Architecture& gpt2 = find_architecture("gpt2");
  EXPECT_EQ(gpt2.forward.at("positions"), "learned");
  EXPECT_EQ(gpt2.forward.at("ffn_kind"), "gelu_tanh");
  EXPECT_EQ(find_architecture("qwen2").forward.at("attn_qkv_bias"), true);
  EXPECT_EQ(find_architecture("qwen2").forward.at("attn_out_bias"), false);
  EXPECT_EQ(find_architecture("llama").forward.at("norm"), "rms_norm");
  // Mistral: its own defaults on top of the Llama fields, and no bias keys.
  const HfModelType* mistral = find_architecture("llama").hf_model_type("mistral");
  ASSERT_TRUE(mistral);
  EXPECT_EQ(mistral->class_name, "MistralForCausalLM");
  EXPECT_EQ(*mistral->find("kv_heads")->absent_value, 8);
  EXPECT_EQ(mistral->find("attn_qkv_bias"), nullptr);
  EXPECT_EQ(find_architecture("llama").hf_model_type("llama")->find("attn_qkv_bias")->keys[0], "attention_bias");
  EXPECT_EQ(architecture_for_gguf("llama")->name, "llama");
  EXPECT_EQ(architecture_for_gguf("qwen2")->name, "qwen2");
  EXPECT_EQ(architecture_for_gguf("bert"), nullptr);
}

TEST(NamingTable, MinimalArchitectureParses) {
  const Architecture a = parse_architecture(minimal_architecture(), "x.json");
  EXPECT_EQ(a.forward.at("norm"), "rms_norm");
  ASSERT_EQ(a.hf_model_types.size(), 1u);
  const HfConfigField* head_dim = a.hf_model_types[0].find("head_dim");
  ASSERT_TRUE(head_dim);
  EXPECT_EQ(head_dim->keys, std::vector<std::string>{"head_dim"});
  EXPECT_EQ(*head_dim->absent_value, "hidden / heads");
}

TEST(NamingTable, ModelSectionsAreParsedStrictly) {
  json j = minimal_architecture();
  j["forward"]["parallel_resdiual"] = true;
  EXPECT_EQ(architecture_error(j), "schema.302|at /forward/parallel_resdiual: unknown key 'parallel_resdiual'");
  j = minimal_architecture();
  j["hf_config"]["fields"]["hidden"] = {{"key", "hidden_size"}, {"deafult", 4}};
  EXPECT_EQ(architecture_error(j), "schema.302|at /hf_config/fields/hidden/deafult: unknown key 'deafult'");
  j = minimal_architecture();
  j["hf_config"]["fields"]["hiden"] = "hidden_size";
  EXPECT_EQ(architecture_error(j), "schema.302|at /hf_config/fields/hiden: unknown key 'hiden': not a ModelSpec field");
  j = minimal_architecture();
  j["hf_config"]["model_types"][0]["calss"] = "X";
  EXPECT_EQ(architecture_error(j), "schema.302|at /hf_config/model_types/0/calss: unknown key 'calss'");
  j = minimal_architecture();
  j["hf_config"]["colour"] = "blue";
  EXPECT_EQ(architecture_error(j), "schema.302|at /hf_config/colour: unknown key 'colour'");
}

TEST(NamingTable, ModelSectionsRejectBadValuesWithTheirPath) {
  json j = minimal_architecture();
  j["forward"]["norm"] = "batch_norm";
  EXPECT_EQ(architecture_error(j).substr(0, 27), "schema.305|at /forward/norm");
  j = minimal_architecture();
  j["forward"].erase("positions");
  EXPECT_EQ(architecture_error(j), "schema.303|at /forward: missing required key 'positions'");
  j = minimal_architecture();
  j.erase("forward");
  EXPECT_EQ(architecture_error(j), "schema.303|at /: missing required key 'forward'");
  j = minimal_architecture();
  j["hf_config"]["fields"]["head_dim"]["default"] = "hidden % heads";
  EXPECT_EQ(architecture_error(j).substr(0, 46), "schema.305|at /hf_config/fields/head_dim/defau");
  j = minimal_architecture();
  j["hf_config"]["fields"]["kv_heads"] = {{"key", "kv"}, {"default", "head_dim"}};  // head_dim is derived itself
  EXPECT_EQ(architecture_error(j).substr(0, 10), "schema.305");
  j = minimal_architecture();
  j["hf_config"]["fields"]["ffn_kind"] = "hidden_act";  // an enum read from a config needs "values"
  EXPECT_EQ(architecture_error(j), "schema.303|at /hf_config/fields/ffn_kind: an enum field read from a config needs \"values\"");
  j = minimal_architecture();
  j["hf_config"]["fields"]["ffn_kind"]["values"] = {{"swiglu", "silu"}, {"geglu", "gelu"}};
  EXPECT_EQ(architecture_error(j).substr(0, 50), "schema.305|at /hf_config/fields/ffn_kind/values/ge");
  j = minimal_architecture();
  j["hf_config"]["fields"]["rope_scaling"] = {{"key", "rope_scaling"}, {"default", nullptr}};
  EXPECT_EQ(architecture_error(j).substr(0, 10), "schema.305");
  j = minimal_architecture();
  j["hf_config"]["fields"]["hidden"] = "config/hidden_size";  // the key written must be a plain name
  EXPECT_EQ(architecture_error(j).substr(0, 39), "schema.305|at /hf_config/fields/hidden/");
  j = minimal_architecture();
  j["hf_config"]["model_types"][0]["fields"] = {{"mlp_bias", nullptr}};  // removing what is not there
  EXPECT_EQ(architecture_error(j).substr(0, 10), "schema.305");
}

}  // namespace
}  // namespace supra
