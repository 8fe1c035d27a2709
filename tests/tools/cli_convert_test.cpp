// `supra convert` through the built binary: exit codes, one-line errors with
// ids, nothing left behind after a failure, --force, --dry-run, --only /
// --exclude, --json cast overflow counts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <cstring>
#include <regex>
#include <set>
#include <sstream>

#include "converters/format.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "tests/converters/safetensors_test_files.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::list_dir;
using test::run_supra;

// A small checkpoint with a few dtypes and names that --only/--exclude can pick.
fs::path write_model(const fs::path& path) {
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("model.embed_tokens.weight", DType::BF16, {64, 16}, 1),
                  test::make_tensor("model.layers.0.self_attn.q_proj.weight", DType::BF16, {16, 16}, 2),
                  test::make_tensor("model.layers.0.mlp.up_proj.weight", DType::F32, {32, 16}, 3),
                  test::make_tensor("model.layers.1.self_attn.q_proj.weight", DType::BF16, {16, 16}, 4),
                  test::make_tensor("model.norm.weight", DType::F16, {16}, 5),
                  test::make_tensor("position_ids", DType::I64, {8}, 6)};
  ckpt.metadata = {{"format", "pt"}, {"origin", "cli test"}};
  write_checkpoint(*find_format("safetensors"), ckpt, path, {});
  return path;
}

std::set<std::string> tensor_names(const fs::path& p) {
  std::set<std::string> names;
  for (const auto& t : read_safetensors(p).tensors) names.insert(t->name());
  return names;
}

// The first stderr line, which must be the only one and start with [id].
void expect_error_line(const test::CommandResult& r, int code, const std::string& id) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("[" + id + "]", 0), 0u) << "stderr: " << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line expected: " << r.err;
}

TEST(CliConvert, SuccessExitsZeroAndPrintsSummary) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const auto r = run_supra({"convert", in.string(), (dir / "out.safetensors").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "no progress bar when stderr is not a terminal: " << r.err;
  EXPECT_NE(r.out.find("tensors:   6"), std::string::npos) << r.out;
  EXPECT_EQ(test::read_file_bytes(dir / "out.safetensors"), test::read_file_bytes(in));
}

TEST(CliConvert, UsageErrorsExitTwo) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const std::string out = (dir / "out.safetensors").string();
  auto r = run_supra({"convert", in.string(), out, "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("[usage]", 0), 0u) << r.err;
  r = run_supra({"convert", in.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_supra({"convert", in.string(), out, "--dtype", "f13"});
  expect_error_line(r, 2, "usage.dtype");
  EXPECT_NE(r.err.find("f13"), std::string::npos);
  r = run_supra({"convert", in.string(), out, "--max-shard-size", "5XB"});
  expect_error_line(r, 2, "usage.size");
  r = run_supra({"convert", in.string(), out, "--only", "("});
  expect_error_line(r, 2, "usage.regex");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"in.safetensors"});
}

TEST(CliConvert, ExistingOutputNeedsForce) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const std::string out = (dir / "out.safetensors").string();
  ASSERT_EQ(run_supra({"convert", in.string(), out, "--dtype", "f32"}).exit_code, 0);
  const auto first = test::read_file_bytes(out);
  auto r = run_supra({"convert", in.string(), out});
  expect_error_line(r, 2, "usage.exists");
  EXPECT_NE(r.err.find(out), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file_bytes(out), first);
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"in.safetensors", "out.safetensors"}));
  r = run_supra({"convert", in.string(), out, "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_file_bytes(out), test::read_file_bytes(in));
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"in.safetensors", "out.safetensors"}));
}

TEST(CliConvert, NeverWritesOverItsInput) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const auto before = test::read_file_bytes(in);
  auto r = run_supra({"convert", in.string(), in.string(), "--force", "--dtype", "f32"});
  expect_error_line(r, 2, "usage.overwrite-input");
  EXPECT_EQ(test::read_file_bytes(in), before);
  // The same through a folder output whose model.safetensors is the input.
  fs::create_directory(dir / "hf");
  write_model(dir / "hf" / "model.safetensors");
  const auto hf_before = test::read_file_bytes(dir / "hf" / "model.safetensors");
  r = run_supra({"convert", (dir / "hf").string(), (dir / "hf").string(), "--force", "--dtype", "f16"});
  expect_error_line(r, 2, "usage.overwrite-input");
  EXPECT_EQ(test::read_file_bytes(dir / "hf" / "model.safetensors"), hf_before);
  EXPECT_EQ(list_dir(dir / "hf"), std::vector<std::string>{"model.safetensors"});
  // A sharded input's index is an input too, even when no shard name collides.
  ASSERT_EQ(run_supra({"convert", in.string(), (dir / "sh").string(), "--max-shard-size", "2KB"}).exit_code, 0);
  const auto index_before = test::read_file_bytes(dir / "sh" / "model.safetensors.index.json");
  const auto sh_files = list_dir(dir / "sh");
  ASSERT_EQ(sh_files.size(), 5u);  // 4 shards (2KB) + index; 5KB below makes 2 differently named shards
  r = run_supra({"convert", (dir / "sh").string(), (dir / "sh").string(), "--force", "--max-shard-size", "5KB"});
  expect_error_line(r, 2, "usage.overwrite-input");
  EXPECT_EQ(test::read_file_bytes(dir / "sh" / "model.safetensors.index.json"), index_before);
  EXPECT_EQ(list_dir(dir / "sh"), sh_files);
  // And through a hard link to the input.
  fs::create_hard_link(in, dir / "link.safetensors");
  r = run_supra({"convert", in.string(), (dir / "link.safetensors").string(), "--force", "--dtype", "f32"});
  expect_error_line(r, 2, "usage.overwrite-input");
  EXPECT_EQ(test::read_file_bytes(in), before);
}

TEST(CliConvert, MalformedInputExitsThreeAndLeavesNothing) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  auto bytes = test::read_file_bytes(in);
  bytes.resize(bytes.size() - 3);  // truncated download
  test::write_file_bytes(dir / "cut.safetensors", bytes);
  const fs::path out = dir / "out";
  auto r = run_supra({"convert", (dir / "cut.safetensors").string(), out.string()});
  expect_error_line(r, 3, "safetensors.116");
  EXPECT_NE(r.err.find("cut.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tensor '"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at byte "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  // Into an existing folder: it stays empty.
  fs::create_directory(out);
  r = run_supra({"convert", (dir / "cut.safetensors").string(), out.string(), "--max-shard-size", "1KB"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(list_dir(out).empty());
  // inspect reports the same error.
  r = run_supra({"inspect", (dir / "cut.safetensors").string()});
  expect_error_line(r, 3, "safetensors.116");
}

TEST(CliConvert, MissingInputExitsFour) {
  test::TempDir dir;
  const auto r = run_supra({"convert", (dir / "nope.safetensors").string(), (dir / "out.safetensors").string()});
  expect_error_line(r, 4, "io.open");
  EXPECT_NE(r.err.find("nope.safetensors"), std::string::npos);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(CliConvert, OutputNameTakenByFolderLeavesNoShard) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const fs::path out = dir / "out";
  // The second shard's name is taken by a folder, which --force cannot
  // replace: refused before anything is written, nothing of this run remains.
  fs::create_directories(out / "model-00002-of-00002.safetensors" / "keep");
  const auto r = run_supra({"convert", in.string(), out.string(), "--max-shard-size", "4KB", "--force"});
  expect_error_line(r, 2, "usage.output");
  EXPECT_EQ(list_dir(out), std::vector<std::string>{"model-00002-of-00002.safetensors"});
  // Without --force the taken name is refused up front, also leaving nothing.
  const auto r2 = run_supra({"convert", in.string(), out.string(), "--max-shard-size", "4KB"});
  expect_error_line(r2, 2, "usage.exists");
  EXPECT_EQ(list_dir(out), std::vector<std::string>{"model-00002-of-00002.safetensors"});
}

TEST(CliConvert, DryRunWritesNothingAndPrintsThePlan) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  const fs::path out = dir / "out";
  auto r = run_supra({"convert", in.string(), out.string(), "--max-shard-size", "3KB", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_NE(r.out.find("predicted peak memory"), std::string::npos) << r.out;
  // Now write for real and check every printed line against the files.
  ASSERT_EQ(run_supra({"convert", in.string(), out.string(), "--max-shard-size", "3KB"}).exit_code, 0);
  const Checkpoint source = read_safetensors(in);
  const std::regex line(R"(^  (\S+)  (\w+)  \[([0-9, ]*)\]  (\d+) bytes  -> (\S+) @ (\d+)$)");
  size_t seen = 0;
  std::set<std::string> files;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    ++seen;
    const Checkpoint shard = read_safetensors(out / m[5].str());
    const TensorSource* t = shard.find(m[1].str());
    ASSERT_NE(t, nullptr) << l;
    EXPECT_EQ(std::string(dtype_name(t->info().dtype)), m[2].str()) << l;
    EXPECT_EQ(t->info().nbytes(), std::stoull(m[4].str())) << l;
    EXPECT_EQ(t->file_span()->offset, std::stoull(m[6].str())) << l;
    files.insert(m[5].str());
  }
  EXPECT_EQ(seen, source.tensors.size()) << r.out;
  EXPECT_GE(files.size(), 2u);
  // --json gives the same plan as data.
  r = run_supra({"convert", in.string(), (dir / "o2").string(), "--max-shard-size", "3KB", "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["dry_run"].get<bool>());
  ASSERT_EQ(j["plan"].size(), source.tensors.size());
  for (const auto& p : j["plan"]) {
    const Checkpoint shard = read_safetensors(out / p["file"].get<std::string>());
    const TensorSource* t = shard.find(p["name"].get<std::string>());
    ASSERT_NE(t, nullptr) << p.dump();
    EXPECT_EQ(t->file_span()->offset, p["offset"].get<uint64_t>());
  }
  EXPECT_FALSE(fs::exists(dir / "o2"));
}

TEST(CliConvert, OnlyAndExcludeSelectTensors) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  auto r = run_supra({"convert", in.string(), (dir / "q.safetensors").string(), "--only", "q_proj"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tensor_names(dir / "q.safetensors"),
            (std::set<std::string>{"model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.weight"}));
  r = run_supra({"convert", in.string(), (dir / "x.safetensors").string(), "--exclude", R"(^model\.layers\.)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tensor_names(dir / "x.safetensors"),
            (std::set<std::string>{"model.embed_tokens.weight", "model.norm.weight", "position_ids"}));
  r = run_supra({"convert", in.string(), (dir / "b.safetensors").string(), "--only", R"(layers\.\d+\.)", "--exclude",
                 "mlp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tensor_names(dir / "b.safetensors"),
            (std::set<std::string>{"model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.weight"}));
  // Selected tensors keep their bytes and the metadata is kept.
  const Checkpoint src = read_safetensors(in), got = read_safetensors(dir / "b.safetensors");
  for (const auto& t : got.tensors) EXPECT_EQ(t->read_all(), src.find(t->name())->read_all());
  EXPECT_EQ(got.metadata, src.metadata);
}

TEST(CliConvert, JsonReportsCastOverflowAndUnderflow) {
  test::TempDir dir;
  // bf16 bit patterns chosen by hand: 65280 fits f16, 2^16, 2^17 and -2^20
  // overflow, inf is already inf, 1.0 fits, 2^-30 flushes to zero in f16.
  const std::vector<uint16_t> big = {0x477f, 0x4780, 0x4800, 0xc980, 0x7f80, 0x3f80, 0x3080};
  std::vector<std::byte> bytes(big.size() * 2);
  std::memcpy(bytes.data(), big.data(), bytes.size());
  Checkpoint ckpt;
  ckpt.tensors = {std::make_shared<MemoryTensorSource>(TensorInfo{"w", DType::BF16, {big.size()}}, bytes),
                  test::make_tensor("fine", DType::BF16, {16}, 1)};
  write_checkpoint(*find_format("safetensors"), ckpt, dir / "in.safetensors", {});
  const auto r = run_supra(
      {"convert", (dir / "in.safetensors").string(), (dir / "out.safetensors").string(), "--dtype", "f16", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cast_overflow"], nlohmann::json({{"w", 3}})) << r.out;
  EXPECT_EQ(j["cast_underflow"], nlohmann::json({{"w", 1}})) << r.out;
  EXPECT_EQ(j["tensors"].get<int>(), 2);
  EXPECT_EQ(j["bytes_in"].get<uint64_t>(), 2 * (7 + 16));
  EXPECT_EQ(j["bytes_out"].get<uint64_t>(), fs::file_size(dir / "out.safetensors"));
  // The text summary names the tensor and the counts.
  const auto t = run_supra({"convert", (dir / "in.safetensors").string(), (dir / "o2.safetensors").string(), "--dtype",
                            "f16"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("w: 3 overflow, 1 underflow"), std::string::npos) << t.out;
  // The written values: inf with the right sign where it overflowed.
  const auto out = read_safetensors(dir / "out.safetensors").find("w")->read_all();
  std::vector<uint16_t> h(big.size());
  std::memcpy(h.data(), out.data(), out.size());
  EXPECT_EQ(h, (std::vector<uint16_t>{0x7bf8, 0x7c00, 0x7c00, 0xfc00, 0x7c00, 0x3c00, 0x0000}));
}

TEST(CliConvert, ThreadsDoNotChangeOutput) {
  test::TempDir dir;
  const fs::path in = write_model(dir / "in.safetensors");
  for (const char* threads : {"1", "2"})
    ASSERT_EQ(run_supra({"convert", in.string(), (dir / (std::string("t") + threads)).string(), "--dtype", "f16",
                         "--threads", threads, "--max-shard-size", "2KB"})
                  .exit_code,
              0);
  const auto a = list_dir(dir / "t1"), b = list_dir(dir / "t2");
  ASSERT_EQ(a, b);
  EXPECT_GE(a.size(), 3u);
  for (const auto& f : a) EXPECT_EQ(test::read_file_bytes(dir / "t1" / f), test::read_file_bytes(dir / "t2" / f)) << f;
}

}  // namespace
}  // namespace supra
