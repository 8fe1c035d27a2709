// Which re-layout a convert does is decided by format capabilities and by
// non-throwing probes, not by format names or caught error ids: a format
// called anything that implies the gguf layout is treated as GGUF; the probes
// say "no" where the throwing readers throw; and the side files of a folder
// output come from the layout table.
#include <gtest/gtest.h>

#include <fstream>

#include "converters/format.hpp"
#include "schema/relayout/convert_layout.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "schema/demo_model.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

using supra::test::error_id;

// Formats that differ from the registered ones only by name.
const Format kNeutral{.name = "plain"};
const Format kLlamaCppLike{.name = "not-called-gguf", .implied_layout = "gguf", .f32_vectors = true};

Checkpoint demo() { return make_demo_checkpoint(DemoModelShape{}, DType::BF16, 3); }

TEST(ModelSpecProbe, SaysNoWhereTheReaderThrows) {
  test::TempDir dir;
  const Checkpoint c = demo();
  EXPECT_FALSE(try_discover_model_spec(c, dir.path(), {}));
  EXPECT_EQ(error_id([&] { discover_model_spec(c, dir.path(), {}); }), "layout.301");
  // An architecture supra has no tables for.
  write_text(dir / "config.json", R"({"model_type": "no_such_arch", "hidden_size": 8})");
  EXPECT_FALSE(try_discover_model_spec(c, dir.path(), {}));
  EXPECT_EQ(error_id([&] { discover_model_spec(c, dir.path(), {}); }), "spec.103");
  // A config that is there but broken is an error for both.
  write_text(dir / "config.json", R"({"model_type": "llama",)");
  EXPECT_EQ(error_id([&] { try_discover_model_spec(c, dir.path(), {}); }), "layout.302");
  write_text(dir / "config.json", demo_config_json(DemoModelShape{}, DType::BF16));
  const auto spec = try_discover_model_spec(c, dir.path(), {});
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->architecture, "llama");
  EXPECT_EQ(spec->layers, discover_model_spec(c, dir.path(), {}).layers);
}

TEST(ModelSpecProbe, GgufMetadataOfAnArchitectureWithoutTables) {
  test::TempDir dir;
  Checkpoint c;
  c.format_metadata["gguf"] = nlohmann::ordered_json::array(
      {{{"key", "general.architecture"}, {"type", "string"}, {"value", "phi3"}}});
  EXPECT_FALSE(try_discover_model_spec(c, dir / "m.gguf", {}));
  EXPECT_EQ(error_id([&] { discover_model_spec(c, dir / "m.gguf", {}); }), "spec.103");
}

TEST(ConventionProbe, NullWhereDetectionThrows) {
  Checkpoint c;
  c.tensors = {test::make_tensor("something.else", DType::F32, {4})};
  EXPECT_EQ(best_matching_convention(c, "llama"), nullptr);
  EXPECT_EQ(error_id([&] { detect_convention(c, "llama"); }), "layout.009");
  EXPECT_EQ(best_matching_convention(demo(), "llama"), &find_convention("hf_llama"));
}

TEST(RelayoutForOutput, AFormatImplyingGgufNeedsTheModelConfigWhateverItsName) {
  test::TempDir dir;
  const Checkpoint c = demo();
  EXPECT_EQ(error_id([&] { relayout_for_output(c, dir.path(), kNeutral, kLlamaCppLike, {}); }), "layout.301");
  EXPECT_EQ(error_id([&] { relayout_for_output(c, dir.path(), kNeutral, kLlamaCppLike, {"hf", "", ""}); }),
            "usage.layout");
  write_text(dir / "config.json", demo_config_json(DemoModelShape{}, DType::BF16));
  const auto r = relayout_for_output(c, dir.path(), kNeutral, kLlamaCppLike, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to_convention, "gguf_llama");
  EXPECT_TRUE(r->checkpoint.format_metadata.contains("gguf"));
  // Between two formats of the same implied layout: names kept.
  EXPECT_FALSE(relayout_for_output(c, dir.path(), kLlamaCppLike, kLlamaCppLike, {}));
  // Between neutral formats: only when asked.
  EXPECT_FALSE(relayout_for_output(c, dir.path(), kNeutral, kNeutral, {}));
  EXPECT_EQ(relayout_for_output(c, dir.path(), kNeutral, kNeutral, {"meta", "", ""})->to_convention, "meta");
}

TEST(RelayoutForOutput, OutOfAFormatsLayoutOnlyWhenTheModelIsKnown) {
  test::TempDir dir;
  write_text(dir / "config.json", demo_config_json(DemoModelShape{}, DType::BF16));
  const auto gguf = relayout_for_output(demo(), dir.path(), kNeutral, kLlamaCppLike, {});
  ASSERT_TRUE(gguf);
  fs::remove(dir / "config.json");
  // Read back from the llama.cpp-like format (its KVs carry the spec): HF names.
  const auto back = relayout_for_output(gguf->checkpoint, dir / "m.x", kLlamaCppLike, kNeutral, {});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_convention, "hf_llama");
  EXPECT_FALSE(back->checkpoint.format_metadata.contains("gguf"));
  // Without a spec it is not an error: the tensors keep their names.
  Checkpoint bare = gguf->checkpoint;
  bare.format_metadata.erase("gguf");
  EXPECT_FALSE(relayout_for_output(bare, dir / "m.x", kLlamaCppLike, kNeutral, {}));
  // ... unless the user asked for the layout.
  EXPECT_EQ(error_id([&] { relayout_for_output(bare, dir / "m.x", kLlamaCppLike, kNeutral, {"hf", "", ""}); }),
            "layout.301");
}

TEST(FolderSideFiles, ConfigFileComesFromTheTargetLayout) {
  test::TempDir dir;
  write_text(dir / "config.json", demo_config_json(DemoModelShape{}, DType::BF16));
  write_text(dir / "tokenizer.model", "spm bytes");
  const Checkpoint c = demo();
  auto names = [](const std::vector<SideFile>& files) {
    std::vector<std::string> n;
    for (const auto& f : files) n.push_back(f.name);
    return n;
  };
  const std::vector<std::pair<std::string, std::string>> configs = {
      {"meta", "params.json"}, {"open_lm", "open_lm_config.json"}, {"hf", "config.json"}};
  for (const auto& [layout, config] : configs) {
    const auto r = relayout_for_output(c, dir.path(), kNeutral, kNeutral, {layout, "", ""});
    ASSERT_TRUE(r) << layout;
    EXPECT_EQ(names(folder_side_files(r->checkpoint, &*r, dir.path())),
              (std::vector<std::string>{config, "tokenizer.model"}))
        << layout;
  }
  // Names kept: the input's own configs.
  write_text(dir / "params.json", R"({"dim": 64})");
  EXPECT_EQ(names(folder_side_files(c, nullptr, dir.path())),
            (std::vector<std::string>{"config.json", "params.json", "tokenizer.model"}));
}

TEST(FolderSideFiles, TorchDtypeIsTheDtypeOfMostBytes) {
  Checkpoint c;
  c.tensors = {test::make_tensor("norm", DType::F32, {16}), test::make_tensor("w", DType::BF16, {16, 16}),
               test::make_tensor("ids", DType::I64, {1024})};
  EXPECT_EQ(dominant_torch_dtype(c), "bfloat16");
  c.tensors.push_back(test::make_tensor("big", DType::F16, {32, 32}));
  EXPECT_EQ(dominant_torch_dtype(c), "float16");
  EXPECT_EQ(dominant_torch_dtype(Checkpoint{}), "");
  // A config whose dtype is right already is carried byte for byte.
  test::TempDir dir;
  const std::string text = "{\"model_type\":\"llama\",  \"torch_dtype\": \"float16\"}";
  write_text(dir / "config.json", text);
  EXPECT_EQ(folder_side_files(c, nullptr, dir.path()).at(0).text, text);
  write_text(dir / "config.json", "{\"model_type\":\"llama\", \"dtype\": \"bfloat16\"}");
  const auto cfg = nlohmann::json::parse(folder_side_files(c, nullptr, dir.path()).at(0).text);
  EXPECT_EQ(cfg["torch_dtype"], "float16");
  EXPECT_EQ(cfg["dtype"], "float16");
}

}  // namespace
}  // namespace supra
