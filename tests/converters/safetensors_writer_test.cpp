// The safetensors writer: exact bytes (safetensors tensor.rs prepare / serialize), canonical
// ordering and padding, determinism, sharding and the index file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "converters/format.hpp"
#include "converters/output_transaction.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "converters/safetensors/safetensors_writer.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

const Format& safetensors() { return *find_format("safetensors"); }

std::string text_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t u64_at(const std::vector<std::byte>& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint64_t(b.at(at + size_t(i)));
  return v;
}

// F32 0..5, little-endian, as safetensors' README "Format" lays them out.
const unsigned char kZeroToFive[24] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40,
                                       0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xA0, 0x40};

TensorPtr attn0() {
  std::vector<std::byte> data(24);
  std::memcpy(data.data(), kZeroToFive, 24);
  return std::make_shared<MemoryTensorSource>(TensorInfo{"attn.0", DType::F32, {1, 2, 3}}, data);
}

TEST(SafetensorsWriter, ReferenceHeaderBytesWithoutMetadata) {
  // tensor.rs test_serialization: exactly 64 JSON bytes, no padding needed.
  const auto header = safetensors_header({}, {attn0()->info()}, {0});
  const std::string json = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(json.size(), 64u);
  std::vector<std::byte> expected = {std::byte{0x40}, {}, {}, {}, {}, {}, {}, {}};
  for (char c : json) expected.push_back(std::byte(c));
  EXPECT_EQ(header, expected);
  // tensor.rs test_empty: "{}" + 6 spaces.
  const auto empty = safetensors_header({}, {}, {});
  std::vector<std::byte> want_empty = {std::byte{8}, {}, {}, {}, {}, {}, {}, {}};
  for (char c : std::string("{}      ")) want_empty.push_back(std::byte(c));
  EXPECT_EQ(empty, want_empty);
}

TEST(SafetensorsWriter, ReferenceExampleFileBytes) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {attn0()};
  write_checkpoint(safetensors(), ckpt, dir / "x.safetensors", {});
  // Our writer always adds {"format":"pt"} (transformers needs it): 95 JSON
  // bytes, padded with one space to 96 = 0x60.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}} )";
  ASSERT_EQ(json.size(), 96u);
  std::vector<std::byte> expected = {std::byte{0x60}, {}, {}, {}, {}, {}, {}, {}};
  for (char c : json) expected.push_back(std::byte(c));
  for (unsigned char c : kZeroToFive) expected.push_back(std::byte(c));
  EXPECT_EQ(test::read_file_bytes(dir / "x.safetensors"), expected);
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"x.safetensors"});
}

TEST(SafetensorsWriter, MixedDtypesOrderedByDtypeThenNameAndAligned) {
  test::TempDir dir;
  Checkpoint ckpt;
  // Deliberately shuffled, with metadata keys out of order.
  ckpt.tensors = {test::make_tensor("m", DType::BOOL, {3}),   test::make_tensor("b", DType::F16, {3}),
                  test::make_tensor("z", DType::F32, {2}),    test::make_tensor("a", DType::F16, {1}),
                  test::make_tensor("c", DType::I64, {1}),    test::make_tensor("k", DType::BF16, {2}),
                  test::make_tensor("u8", DType::U8, {1}),    test::make_tensor("s", DType::F64, {})};
  ckpt.metadata = {{"zeta", "1"}, {"alpha", "x\"y"}};
  write_checkpoint(safetensors(), ckpt, dir / "m.safetensors", {});
  const auto file = test::read_file_bytes(dir / "m.safetensors");
  const uint64_t n = u64_at(file, 0);
  EXPECT_EQ(n % 8, 0u);
  const std::string header(reinterpret_cast<const char*>(file.data()) + 8, size_t(n));
  // Reference order (tensor.rs `prepare`): I64, F64, F32, BF16, F16, U8, BOOL; ties by name.
  const std::string json =
      R"({"__metadata__":{"alpha":"x\"y","format":"pt","zeta":"1"},)"
      R"("c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("s":{"dtype":"F64","shape":[],"data_offsets":[8,16]},)"
      R"("z":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},)"
      R"("k":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},)"
      R"("a":{"dtype":"F16","shape":[1],"data_offsets":[28,30]},)"
      R"("b":{"dtype":"F16","shape":[3],"data_offsets":[30,36]},)"
      R"("u8":{"dtype":"U8","shape":[1],"data_offsets":[36,37]},)"
      R"("m":{"dtype":"BOOL","shape":[3],"data_offsets":[37,40]}})";
  EXPECT_EQ(header, json + std::string((8 - json.size() % 8) % 8, ' '));
  ASSERT_EQ(file.size(), 8 + n + 40);
  // Each tensor's bytes sit at its offset, aligned to its element size.
  const Checkpoint back = read_safetensors(dir / "m.safetensors");
  for (const auto& t : ckpt.tensors) {
    const auto* r = back.find(t->name());
    ASSERT_NE(r, nullptr) << t->name();
    EXPECT_EQ(r->read_all(), t->read_all()) << t->name();
    const auto span = r->file_span();
    ASSERT_TRUE(span.has_value());
    EXPECT_EQ(span->offset % dtype_size(t->info().dtype), 0u) << t->name();
  }
}

TEST(SafetensorsWriter, KeepsExistingFormatMetadata) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {attn0()};
  ckpt.metadata = {{"format", "mlx"}};
  write_checkpoint(safetensors(), ckpt, dir / "x.safetensors", {});
  EXPECT_EQ(read_safetensors(dir / "x.safetensors").metadata, (std::map<std::string, std::string>{{"format", "mlx"}}));
}

TEST(SafetensorsWriter, RefusesTensorNamedMetadata) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("__metadata__", DType::F32, {2})};
  try {
    write_checkpoint(safetensors(), ckpt, dir / "x.safetensors", {});
    ADD_FAILURE() << "a tensor named __metadata__ was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "safetensors.302") << e.what();
    EXPECT_NE(std::string(e.what()).find("__metadata__"), std::string::npos);
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(SafetensorsWriter, RefusesDuplicateNames) {
  test::TempDir dir;
  Checkpoint ckpt;
  // Same dtype, different dtypes (not neighbours once sorted by dtype), and
  // in different shards.
  const std::vector<std::vector<TensorPtr>> cases = {
      {test::make_tensor("w", DType::F32, {2}), test::make_tensor("w", DType::F32, {3}, 2)},
      {test::make_tensor("w", DType::F32, {2}), test::make_tensor("b", DType::BF16, {2}),
       test::make_tensor("w", DType::F16, {3}, 2)},
      {test::make_tensor("w", DType::F32, {64}), test::make_tensor("v", DType::F32, {64}),
       test::make_tensor("w", DType::F32, {64}, 2)}};
  for (const auto& tensors : cases) {
    ckpt.tensors = tensors;
    WriteOptions options;
    options.max_shard_size = 300;
    try {
      write_checkpoint(safetensors(), ckpt, dir / "x.safetensors", options);
      ADD_FAILURE() << "two tensors named w were written";
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "safetensors.303") << e.what();
      EXPECT_NE(std::string(e.what()).find("tensor 'w'"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(test::list_dir(dir.path()).empty());
  }
}

Checkpoint varied_checkpoint() {
  Checkpoint ckpt;
  // One tensor above the 8 MiB stream chunk so chunking and threads matter.
  ckpt.tensors = {test::make_tensor("big", DType::F32, {3, 1024, 1024}, 7),
                  test::make_tensor("emb", DType::BF16, {64, 33}, 3),
                  test::make_tensor("ids", DType::I64, {17}, 4),
                  test::make_tensor("mask", DType::BOOL, {5, 5}, 5),
                  test::make_tensor("norm", DType::F16, {33}, 6),
                  test::make_tensor("empty", DType::F32, {0, 4}, 8)};
  ckpt.metadata = {{"source", "test"}};
  return ckpt;
}

TEST(SafetensorsWriter, DeterministicAcrossRunsAndThreads) {
  test::TempDir dir;
  const Checkpoint ckpt = varied_checkpoint();
  WriteOptions one, two;
  one.threads = 1;
  two.threads = 2;
  write_checkpoint(safetensors(), ckpt, dir / "a.safetensors", one);
  write_checkpoint(safetensors(), ckpt, dir / "b.safetensors", two);
  write_checkpoint(safetensors(), ckpt, dir / "c.safetensors", two);
  const auto a = test::read_file_bytes(dir / "a.safetensors");
  EXPECT_EQ(a, test::read_file_bytes(dir / "b.safetensors"));
  EXPECT_EQ(a, test::read_file_bytes(dir / "c.safetensors"));
  // The same holds when the source is a file (kernel copy) and when casting.
  const Checkpoint from_file = read_safetensors(dir / "a.safetensors");
  write_checkpoint(safetensors(), from_file, dir / "d.safetensors", two);
  EXPECT_EQ(a, test::read_file_bytes(dir / "d.safetensors"));
  Checkpoint cast = from_file;
  for (auto& t : cast.tensors) t = cast_if_float(t, DType::F16);
  write_checkpoint(safetensors(), cast, dir / "e1.safetensors", one);
  write_checkpoint(safetensors(), cast, dir / "e2.safetensors", two);
  EXPECT_EQ(test::read_file_bytes(dir / "e1.safetensors"), test::read_file_bytes(dir / "e2.safetensors"));
}

// Reads the index file of a sharded output.
nlohmann::json read_index(const fs::path& p) { return nlohmann::json::parse(text_of(p)); }

TEST(SafetensorsWriter, ShardsGreedilyWithIndex) {
  test::TempDir dir;
  Checkpoint ckpt;
  // 100-byte tensors except one of 1000 bytes, larger than the 250-byte limit.
  ckpt.tensors = {test::make_tensor("a", DType::F32, {25}, 1), test::make_tensor("b", DType::F32, {25}, 2),
                  test::make_tensor("huge", DType::U8, {1000}, 3), test::make_tensor("c", DType::F16, {50}, 4),
                  test::make_tensor("d", DType::F32, {25}, 5), test::make_tensor("e", DType::I64, {12}, 6)};
  WriteOptions options;
  options.max_shard_size = 250;
  const fs::path out = dir / "out";
  write_checkpoint(safetensors(), ckpt, out, options);
  // Greedy in checkpoint order: [a,b] [huge] [c,d] [e(96)].
  const std::vector<std::string> want_files = {
      "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
      "model-00004-of-00004.safetensors", "model.safetensors.index.json"};
  ASSERT_EQ(test::list_dir(out), want_files);
  const std::vector<std::set<std::string>> want_groups = {{"a", "b"}, {"huge"}, {"c", "d"}, {"e"}};
  const auto index = read_index(out / "model.safetensors.index.json");
  uint64_t payload = 0;
  for (const auto& t : ckpt.tensors) payload += t->info().nbytes();
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), payload);
  EXPECT_EQ(index["weight_map"].size(), ckpt.tensors.size());
  for (size_t s = 0; s < 4; ++s) {
    // Each shard is a valid file on its own and holds exactly its group.
    const Checkpoint shard = read_safetensors(out / want_files[s]);
    std::set<std::string> names;
    for (const auto& t : shard.tensors) {
      names.insert(t->name());
      EXPECT_EQ(index["weight_map"][t->name()], want_files[s]) << t->name();
      EXPECT_EQ(t->read_all(), ckpt.find(t->name())->read_all()) << t->name();
    }
    EXPECT_EQ(names, want_groups[s]) << want_files[s];
    EXPECT_EQ(shard.metadata.at("format"), "pt");
    uint64_t shard_payload = 0;
    for (const auto& t : shard.tensors) shard_payload += t->info().nbytes();
    EXPECT_TRUE(shard_payload <= 250 || shard.tensors.size() == 1) << want_files[s];
  }
  // The plan (dry run) names the same files and offsets.
  const WritePlan plan = safetensors().plan(ckpt, dir / "other", options);
  EXPECT_EQ(plan.files, std::vector<std::string>(want_files.begin(), want_files.end()));
  EXPECT_EQ(plan.payload_bytes, payload);
  for (const auto& p : plan.tensors) {
    const Checkpoint shard = read_safetensors(out / p.file);
    const auto* t = shard.find(p.name);
    ASSERT_NE(t, nullptr) << p.name << " not in " << p.file;
    EXPECT_EQ(t->file_span()->offset, p.offset) << p.name;
  }
  EXPECT_FALSE(fs::exists(dir / "other"));
}

TEST(SafetensorsWriter, ShardLimitAboveTotalGivesOneFile) {
  test::TempDir dir;
  Checkpoint ckpt = varied_checkpoint();
  WriteOptions options;
  options.max_shard_size = 1ull << 40;
  write_checkpoint(safetensors(), ckpt, dir / "out", options);
  EXPECT_EQ(test::list_dir(dir / "out"), std::vector<std::string>{"model.safetensors"});
}

TEST(SafetensorsWriter, ShardedFileOutputUsesItsStem) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("a", DType::F32, {25}), test::make_tensor("b", DType::F32, {25})};
  WriteOptions options;
  options.max_shard_size = 100;
  write_checkpoint(safetensors(), ckpt, dir / "net.safetensors", options);
  EXPECT_EQ(test::list_dir(dir.path()),
            (std::vector<std::string>{"net-00001-of-00002.safetensors", "net-00002-of-00002.safetensors",
                                      "net.safetensors.index.json"}));
  // And the reader finds it through the index.
  EXPECT_EQ(read_safetensors(dir / "net.safetensors.index.json").tensors.size(), 2u);
}

TEST(SafetensorsWriter, ExistingOutputRefusedWithoutForce) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {attn0()};
  write_checkpoint(safetensors(), ckpt, dir / "x.safetensors", {});
  const auto before = test::read_file_bytes(dir / "x.safetensors");
  Checkpoint other;
  other.tensors = {test::make_tensor("w", DType::F32, {4})};
  try {
    write_checkpoint(safetensors(), other, dir / "x.safetensors", {});
    ADD_FAILURE() << "existing output overwritten without force";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
  }
  EXPECT_EQ(test::read_file_bytes(dir / "x.safetensors"), before);
  WriteOptions force;
  force.force = true;
  write_checkpoint(safetensors(), other, dir / "x.safetensors", force);
  EXPECT_NE(test::read_file_bytes(dir / "x.safetensors"), before);
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"x.safetensors"});
}

// A source whose bytes cannot be produced: the write fails mid-way.
class FailingSource final : public TensorSource {
 public:
  explicit FailingSource(TensorInfo info) : TensorSource(std::move(info)) {}

 private:
  void read_range(uint64_t, std::span<std::byte>, CastStats*) const override {
    throw io_error("io.read", {"failing", name(), 0}, "simulated read failure");
  }
};

TEST(SafetensorsWriter, FailureMidWriteLeavesNothing) {
  test::TempDir dir;
  Checkpoint ckpt = varied_checkpoint();
  ckpt.tensors.push_back(std::make_shared<FailingSource>(TensorInfo{"zz.fails", DType::F32, {1000}}));
  WriteOptions options;
  options.max_shard_size = 1'000'000;
  options.threads = 2;
  // Into a folder that does not exist yet (created and removed again) ...
  EXPECT_THROW(write_checkpoint(safetensors(), ckpt, dir / "new" / "out", options), Error);
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
  // ... and into an existing folder holding other files, which stay.
  fs::create_directory(dir / "out");
  test::write_file_bytes(dir / "out" / "README", {std::byte{'x'}});
  EXPECT_THROW(write_checkpoint(safetensors(), ckpt, dir / "out", options), Error);
  EXPECT_EQ(test::list_dir(dir / "out"), std::vector<std::string>{"README"});
}

TEST(OutputTransactionCommit, FailedRenameUndoesTheWholeCommit) {
  test::TempDir dir;
  {
    OutputTransaction tx(dir.path(), true);
    tx.create("a.bin");
    tx.create("b.bin");
    // Another process puts a folder where b.bin goes after it was checked.
    fs::create_directories(dir / "b.bin" / "inside");
    try {
      tx.commit();
      ADD_FAILURE() << "commit over a folder succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "io.rename") << e.what();
    }
  }
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"b.bin"});
  EXPECT_EQ(test::list_dir(dir / "b.bin"), std::vector<std::string>{"inside"});
}

}  // namespace
}  // namespace supra
