// `supra diff` on real conversions made by the supra binary: the demo model
// against its f32 GGUF (identical once names and q/k rows are matched), its
// f16 GGUF (small differences, within a loose --tol), and a copy of its HF
// folder with one tensor edited (found, and nothing else).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>

#include "converters/format.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::run_supra;

struct DemoFiles {
  test::TempDir dir;
  fs::path hf, gguf32, gguf16;
  DemoFiles() : hf(dir / "demo"), gguf32(dir / "demo-f32.gguf"), gguf16(dir / "demo-f16.gguf") {
    auto r = run_supra({"demo-model", hf.string(), "--dtype", "f32"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run_supra({"convert", hf.string(), gguf32.string(), "--dtype", "f32"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run_supra({"convert", hf.string(), gguf16.string(), "--dtype", "f16"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
};

DemoFiles& demo() {
  static DemoFiles files;
  return files;
}

nlohmann::json diff_json(const fs::path& a, const fs::path& b, std::vector<std::string> extra, int expect_code) {
  std::vector<std::string> args = {"diff", a.string(), b.string(), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_supra(args);
  EXPECT_EQ(r.exit_code, expect_code) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(CliDiff, HfFolderAndItsF32GgufAreIdentical) {
  const auto j = diff_json(demo().hf, demo().gguf32, {}, 0);
  EXPECT_TRUE(j["passed"].get<bool>());
  EXPECT_EQ(j["convention_a"], "hf_llama");
  EXPECT_EQ(j["convention_b"], "gguf_llama");
  EXPECT_GE(j["tensors"].size(), 9u);
  EXPECT_EQ(j["counts"]["identical"], j["tensors"].size());
  bool saw_q = false;
  for (const auto& t : j["tensors"]) saw_q = saw_q || t["name"] == "layers.1.attn_q.weight";
  EXPECT_TRUE(saw_q);  // permuted q rows in the GGUF, matched back by role
  const auto text = run_supra({"diff", demo().hf.string(), demo().gguf32.string()});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("-> SAME"), std::string::npos) << text.out;
}

TEST(CliDiff, F16GgufDiffersSlightly) {
  const auto j = diff_json(demo().hf, demo().gguf16, {}, 6);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_GT(j["counts"]["different"].get<int>(), 0);
  double worst = 0;
  for (const auto& t : j["tensors"]) {
    if (t["status"] != "different") continue;
    EXPECT_EQ(t["dtype_b"], "F16") << t["name"];
    worst = std::max(worst, t["max_abs"].get<double>());
    EXPECT_LT(t["rel_l2"].get<double>(), 1e-3) << t["name"];  // f16 rounding, not a bug
  }
  EXPECT_GT(worst, 0);
  const auto loose = diff_json(demo().hf, demo().gguf16, {"--tol", "1e-2"}, 0);
  EXPECT_GT(loose["counts"]["within_tolerance"].get<int>(), 0);
  EXPECT_EQ(loose["counts"]["different"], 0);
}

TEST(CliDiff, FindsTheOneEditedTensor) {
  test::TempDir dir;
  const fs::path edited = dir / "edited";
  fs::create_directories(edited);
  fs::copy_file(demo().hf / "config.json", edited / "config.json");
  Checkpoint ckpt = read_safetensors(demo().hf / "model.safetensors");
  const std::string target = "model.layers.1.mlp.down_proj.weight";
  for (auto& t : ckpt.tensors) {
    if (t->name() != target) continue;
    auto bytes = t->read_all();
    float v;
    std::memcpy(&v, bytes.data() + 40, 4);
    v += 0.75f;
    std::memcpy(bytes.data() + 40, &v, 4);
    t = std::make_shared<MemoryTensorSource>(t->info(), std::move(bytes));
  }
  write_checkpoint(*find_format("safetensors"), ckpt, edited / "model.safetensors", {});
  const auto j = diff_json(demo().hf, edited, {}, 6);
  EXPECT_EQ(j["counts"]["different"], 1);
  for (const auto& t : j["tensors"]) {
    if (t["name"] != "layers.1.ffn_down.weight") {
      EXPECT_EQ(t["status"], "identical") << t["name"];
      continue;
    }
    EXPECT_EQ(t["status"], "different");
    EXPECT_EQ(t["differing"], 1);
    EXPECT_EQ(t["max_abs_index"], 10);
    EXPECT_NEAR(t["max_abs"].get<double>(), 0.75, 1e-6);
  }
  const auto text = run_supra({"diff", demo().hf.string(), edited.string(), "--only-different"});
  EXPECT_EQ(text.exit_code, 6);
  EXPECT_NE(text.out.find("layers.1.ffn_down.weight"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("layers.0.attn_q.weight"), std::string::npos) << text.out;
}

TEST(CliDiff, BadInputsFailWithOneLine) {
  test::TempDir dir;
  auto r = run_supra({"diff", demo().hf.string(), (dir / "nope").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 6);
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  r = run_supra({"diff", demo().hf.string(), demo().gguf32.string(), "--tol", "-1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace supra
