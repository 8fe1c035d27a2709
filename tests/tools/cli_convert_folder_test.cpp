// `supra convert` into a Hugging Face style folder: the folder carries the
// model's side files (config.json with the output's dtype, tokenizer and
// generation config) whether or not tensors were re-laid out; a GGUF needs a
// model config; and the whole job is one transaction (a side file that fails
// leaves no weights behind).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "converters/gguf/gguf_reader.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::list_dir;
using test::run_supra;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// The demo HF folder plus the side files a hub download also has.
fs::path make_hf_folder(const fs::path& dir) {
  const auto r = run_supra({"demo-model", dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  write_text(dir / "generation_config.json", R"({"bos_token_id": 258, "eos_token_id": 259, "do_sample": false})");
  write_text(dir / "special_tokens_map.json", R"({"bos_token": "<s>", "eos_token": "</s>"})");
  return dir;
}

const std::vector<std::string> kSideFiles = {"generation_config.json", "special_tokens_map.json", "tokenizer.json",
                                             "tokenizer_config.json"};

void expect_side_files_carried(const fs::path& in, const fs::path& out, const std::string& torch_dtype) {
  for (const auto& name : kSideFiles) {
    ASSERT_TRUE(fs::exists(out / name)) << name << " missing from " << out;
    EXPECT_EQ(test::read_file_bytes(out / name), test::read_file_bytes(in / name)) << name;
  }
  ASSERT_TRUE(fs::exists(out / "config.json")) << out;
  nlohmann::json got = read_json(out / "config.json"), want = read_json(in / "config.json");
  EXPECT_EQ(got["torch_dtype"], torch_dtype);
  got.erase("torch_dtype");
  want.erase("torch_dtype");
  EXPECT_EQ(got, want) << "every other config key is the input's";
}

std::string gguf_string(const Checkpoint& gguf, const std::string& key) {
  for (const auto& kv : gguf.format_metadata["gguf"])
    if (kv["key"] == key) return kv["value"].get<std::string>();
  return "(no " + key + ")";
}

TEST(CliConvertFolder, FolderToFolderCarriesConfigAndTokenizer) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  auto r = run_supra({"convert", hf.string(), (dir / "f16").string(), "--dtype", "f16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_side_files_carried(hf, dir / "f16", "float16");
  for (const auto& t : read_safetensors(dir / "f16").tensors) EXPECT_EQ(t->info().dtype, DType::F16) << t->name();
  // Sharded: the same side files next to the shards and their index.
  r = run_supra({"convert", hf.string(), (dir / "sh").string(), "--dtype", "f32", "--max-shard-size", "40KB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_side_files_carried(hf, dir / "sh", "float32");
  EXPECT_TRUE(fs::exists(dir / "sh" / "model.safetensors.index.json"));
  // No --dtype: the config still says what the weights are (bf16).
  r = run_supra({"convert", hf.string(), (dir / "same").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_side_files_carried(hf, dir / "same", "bfloat16");
  EXPECT_EQ(test::read_file_bytes(dir / "same" / "model.safetensors"), test::read_file_bytes(hf / "model.safetensors"));
}

TEST(CliConvertFolder, GgufFromAConvertedFolderIsALlamaModel) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  ASSERT_EQ(run_supra({"convert", hf.string(), (dir / "f16").string(), "--dtype", "f16"}).exit_code, 0);
  const auto r = run_supra({"convert", (dir / "f16").string(), (dir / "m.gguf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Checkpoint gguf = read_gguf(dir / "m.gguf");
  EXPECT_EQ(gguf_string(gguf, "general.architecture"), "llama");
  EXPECT_NE(gguf.find("token_embd.weight"), nullptr);
  EXPECT_EQ(gguf.find("model.embed_tokens.weight"), nullptr);
}

TEST(CliConvertFolder, GgufWithoutAModelConfigIsRefused) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  fs::create_directory(dir / "bare");
  fs::copy_file(hf / "model.safetensors", dir / "bare" / "model.safetensors");
  const auto before = list_dir(dir.path());
  for (const fs::path& in : {dir / "bare", dir / "bare" / "model.safetensors"}) {
    const auto r = run_supra({"convert", in.string(), (dir / "m.gguf").string()});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.err.rfind("[layout.301]", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line expected: " << r.err;
    EXPECT_NE(r.err.find("--model-config"), std::string::npos) << r.err;
    EXPECT_EQ(list_dir(dir.path()), before) << "nothing written";
  }
  // The way out the message names.
  const auto ok = run_supra({"convert", (dir / "bare").string(), (dir / "m.gguf").string(), "--model-config",
                             (hf / "config.json").string()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(gguf_string(read_gguf(dir / "m.gguf"), "general.architecture"), "llama");
}

TEST(CliConvertFolder, AGgufHoldsOnlyLlamaCppNames) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  const auto r = run_supra({"convert", hf.string(), (dir / "m.gguf").string(), "--layout", "hf"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("[usage.layout]", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m.gguf"));
}

// One transaction for the whole job: a side file that cannot be written
// (its name is taken by a folder, which --force does not replace) leaves
// neither weights nor config behind.
TEST(CliConvertFolder, AFailingSideFileLeavesNoWeights) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--layout", "meta"}, {"--layout", "hf"}}) {
    const fs::path out = dir / "out";
    fs::remove_all(out);
    fs::create_directories(out / "tokenizer.json" / "keep");
    std::vector<std::string> args = {"convert", hf.string(), out.string(), "--force", "--dtype", "f16"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_supra(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.err.rfind("[usage.output]", 0), 0u) << r.err;
    EXPECT_EQ(list_dir(out), std::vector<std::string>{"tokenizer.json"}) << (extra.empty() ? "" : extra[1]);
    EXPECT_EQ(list_dir(out / "tokenizer.json"), std::vector<std::string>{"keep"});
  }
}

TEST(CliConvertFolder, ExistingSideFilesNeedForce) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  fs::create_directory(dir / "out");
  write_text(dir / "out" / "config.json", "{}");
  const auto r = run_supra({"convert", hf.string(), (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("[usage.exists]", 0), 0u) << r.err;
  EXPECT_EQ(list_dir(dir / "out"), std::vector<std::string>{"config.json"});
  ASSERT_EQ(run_supra({"convert", hf.string(), (dir / "out").string(), "--force"}).exit_code, 0);
  EXPECT_EQ(read_json(dir / "out" / "config.json")["model_type"], "llama");
}

TEST(CliConvertFolder, GgufToFolderWritesAConfigWithTheOutputDtype) {
  test::TempDir dir;
  const fs::path hf = make_hf_folder(dir / "hf");
  ASSERT_EQ(run_supra({"convert", hf.string(), (dir / "m.gguf").string()}).exit_code, 0);
  const auto r = run_supra({"convert", (dir / "m.gguf").string(), (dir / "back").string(), "--dtype", "f16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json cfg = read_json(dir / "back" / "config.json");
  EXPECT_EQ(cfg["torch_dtype"], "float16");
  EXPECT_EQ(cfg["model_type"], "llama");
}

}  // namespace
}  // namespace supra
