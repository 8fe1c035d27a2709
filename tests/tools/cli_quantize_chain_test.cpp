// Issue 7's repro through the CLI: `supra convert` of a bf16 model to GGUF
// with --dtype f16 --quantize q8_0 builds the chain cast -> RoPE permutation
// -> cast -> quantize, whose inner cast once overwrote the outer cast's input
// (attn_q / attn_k off by ~17x their largest value). Every quantized tensor
// must hold exactly the blocks of the reference chain on the input's values.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "tests/converters/reference_tensor_ops.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

reference::Array as_array(const TensorSource& t) { return {t.info().dtype, t.info().shape, t.read_all()}; }

TEST(CliQuantizeChain, Bf16ToF16ToQ8_0GgufHoldsTheReferenceBlocks) {
  test::TempDir dir;
  const auto made = test::run_supra({"demo-model", (dir / "d").string(), "--dtype", "bf16"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto r = test::run_supra(
      {"convert", (dir / "d").string(), (dir / "b.gguf").string(), "--dtype", "f16", "--quantize", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::ifstream config_in(dir / "d" / "config.json");
  const auto config = nlohmann::json::parse(config_in);
  const uint64_t layers = config["num_hidden_layers"], heads = config["num_attention_heads"],
                 kv_heads = config["num_key_value_heads"];
  const Checkpoint hf = read_safetensors(dir / "d" / "model.safetensors");
  auto hf_tensor = [&](const std::string& name) {
    for (const auto& t : hf.tensors)
      if (t->name() == name) return as_array(*t);
    throw std::runtime_error("no " + name);
  };
  const GgufFile gguf = parse_gguf(dir / "b.gguf");
  auto gguf_blocks = [&](const std::string& name) {
    for (const auto& t : gguf.tensors)
      if (t.name == name) {
        EXPECT_EQ(t.ggml_type, ggml::Q8_0) << name;
        std::vector<std::byte> bytes(t.nbytes);
        gguf.file->read_at(gguf.data_offset + t.offset, bytes);
        return bytes;
      }
    throw std::runtime_error("no " + name);
  };
  for (uint64_t l = 0; l < layers; ++l) {
    const std::string hf_layer = "model.layers." + std::to_string(l) + ".", blk = "blk." + std::to_string(l) + ".";
    SCOPED_TRACE("layer " + std::to_string(l));
    using namespace reference;
    const Array q = rope_halves_to_pairs(cast(hf_tensor(hf_layer + "self_attn.q_proj.weight"), DType::F16), heads);
    const Array k = rope_halves_to_pairs(cast(hf_tensor(hf_layer + "self_attn.k_proj.weight"), DType::F16), kv_heads);
    const Array o = cast(hf_tensor(hf_layer + "self_attn.o_proj.weight"), DType::F16);
    EXPECT_EQ(gguf_blocks(blk + "attn_q.weight"), quantize_q8_0(q).bytes);
    EXPECT_EQ(gguf_blocks(blk + "attn_k.weight"), quantize_q8_0(k).bytes);
    EXPECT_EQ(gguf_blocks(blk + "attn_output.weight"), quantize_q8_0(o).bytes);
  }
}

}  // namespace
}  // namespace supra
