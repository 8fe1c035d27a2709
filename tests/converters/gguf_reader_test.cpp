// GGUF reader: files are assembled byte by byte here (independently of the
// writer) following ggml's docs/gguf.md "File Structure", then parsed. Every malformed case
// asserts its own error id.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "schema/error.hpp"
#include "schema/float_convert.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

// Little-endian byte assembly.
struct Bytes {
  std::vector<std::byte> b;
  template <typename T>
  Bytes& put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& str(std::string_view s) {
    put<uint64_t>(s.size());
    for (char c : s) b.push_back(std::byte(uint8_t(c)));
    return *this;
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(std::byte{0});
    return *this;
  }
  Bytes& raw(const void* p, size_t n) {
    const auto* q = static_cast<const std::byte*>(p);
    b.insert(b.end(), q, q + n);
    return *this;
  }
};

Bytes header(uint32_t version, int64_t n_tensors, int64_t n_kv) {
  Bytes h;
  h.raw("GGUF", 4).put<uint32_t>(version).put<int64_t>(n_tensors).put<int64_t>(n_kv);
  return h;
}

void tensor_info(Bytes& h, std::string_view name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
  h.str(name).put<uint32_t>(uint32_t(ne.size()));
  for (int64_t d : ne) h.put<int64_t>(d);
  h.put<uint32_t>(type).put<uint64_t>(offset);
}

class GgufReader : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path write(const Bytes& bytes, const std::string& name = "x.gguf") {
    test::write_file_bytes(dir / name, bytes.b);
    return dir / name;
  }
  // Parses the bytes and expects bad_input with `id`.
  void expect_error(const Bytes& bytes, const std::string& id) {
    const auto path = write(bytes, "bad.gguf");
    try {
      read_gguf(path);
      FAIL() << "expected " << id;
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), id) << e.what();
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      EXPECT_EQ(e.where().file, path.string());
    }
  }
};

TEST_F(GgufReader, ReadsEveryValueTypeWithItsType) {
  Bytes h = header(3, 0, 17);
  h.str("k.u8").put<uint32_t>(0).put<uint8_t>(200);
  h.str("k.i8").put<uint32_t>(1).put<int8_t>(-5);
  h.str("k.u16").put<uint32_t>(2).put<uint16_t>(60000);
  h.str("k.i16").put<uint32_t>(3).put<int16_t>(-30000);
  h.str("k.u32").put<uint32_t>(4).put<uint32_t>(4000000000u);
  h.str("k.i32").put<uint32_t>(5).put<int32_t>(-2000000000);
  h.str("k.f32").put<uint32_t>(6).put<float>(0.1f);
  h.str("k.bool").put<uint32_t>(7).put<int8_t>(1);
  h.str("k.str").put<uint32_t>(8).str("h\xc3\xa9llo");
  h.str("k.u64").put<uint32_t>(10).put<uint64_t>(18000000000000000000ull);
  h.str("k.i64").put<uint32_t>(11).put<int64_t>(-9000000000000000000ll);
  h.str("k.f64").put<uint32_t>(12).put<double>(0.1);
  h.str("a.u8").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(3).put<uint8_t>(1).put<uint8_t>(2).put<uint8_t>(3);
  h.str("a.i32").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(2).put<int32_t>(-1).put<int32_t>(7);
  h.str("a.f32").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(1).put<float>(1.5f);
  h.str("a.bool").put<uint32_t>(9).put<uint32_t>(7).put<uint64_t>(2).put<int8_t>(0).put<int8_t>(1);
  h.str("a.str").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(10);
  for (int i = 0; i < 10; ++i) h.str("t" + std::to_string(i));

  const GgufFile g = parse_gguf(write(h));
  ASSERT_EQ(g.kvs.size(), 17u);
  EXPECT_EQ(g.version, 3u);
  const auto v = [&](const char* key) { return g.find(key)->value; };
  EXPECT_EQ(v("k.u8"), GgufValue::uint(GgufValueType::U8, 200));
  EXPECT_EQ(v("k.i8"), GgufValue::sint(GgufValueType::I8, -5));
  EXPECT_EQ(v("k.u16"), GgufValue::uint(GgufValueType::U16, 60000));
  EXPECT_EQ(v("k.i16"), GgufValue::sint(GgufValueType::I16, -30000));
  EXPECT_EQ(v("k.u32"), GgufValue::uint(GgufValueType::U32, 4000000000u));
  EXPECT_EQ(v("k.i32"), GgufValue::sint(GgufValueType::I32, -2000000000));
  EXPECT_EQ(v("k.f32").type, GgufValueType::F32);
  EXPECT_EQ(float(v("k.f32").f), 0.1f);
  EXPECT_EQ(v("k.bool"), GgufValue::boolean(true));
  EXPECT_EQ(v("k.str"), GgufValue::string("h\xc3\xa9llo"));
  EXPECT_EQ(v("k.u64"), GgufValue::uint(GgufValueType::U64, 18000000000000000000ull));
  EXPECT_EQ(v("k.i64"), GgufValue::sint(GgufValueType::I64, -9000000000000000000ll));
  EXPECT_EQ(v("k.f64"), GgufValue::real(GgufValueType::F64, 0.1));
  EXPECT_EQ(v("a.u8").element_type, GgufValueType::U8);
  ASSERT_EQ(v("a.u8").items.size(), 3u);
  EXPECT_EQ(v("a.u8").items[2].u, 3u);
  EXPECT_EQ(v("a.i32").items[0].i, -1);
  EXPECT_EQ(v("a.f32").items[0].f, 1.5);
  EXPECT_FALSE(v("a.bool").items[0].b);
  EXPECT_TRUE(v("a.bool").items[1].b);
  ASSERT_EQ(v("a.str").items.size(), 10u);
  EXPECT_EQ(v("a.str").items[9].s, "t9");

  // The checkpoint carries them typed (JSON) and summarized (strings).
  const Checkpoint ckpt = checkpoint_from_gguf(g);
  EXPECT_EQ(gguf_kvs_from_json(ckpt.format_metadata["gguf"]), g.kvs);
  EXPECT_EQ(ckpt.format_metadata["gguf"][4]["type"], "u32");
  EXPECT_EQ(ckpt.format_metadata["gguf"][16]["element_type"], "string");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.k.u32"), "4000000000");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.k.f32"), "0.1");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.k.bool"), "true");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.k.str"), "h\xc3\xa9llo");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.a.u8"), "[1, 2, 3]");
  EXPECT_EQ(ckpt.display_metadata.at("gguf.a.str"), "[10 x string: \"t0\", \"t1\", \"t2\", ...]");
}

TEST_F(GgufReader, SummariesAreOneLineValidUtf8) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(8).str("a\nb\xff");
  const Checkpoint ckpt = read_gguf(write(h));
  EXPECT_EQ(ckpt.display_metadata.at("gguf.k"), "a\\nb\\xff");
  EXPECT_EQ(gguf_kvs_from_json(ckpt.format_metadata["gguf"])[0].value.s, "a\nb\xff");  // exact bytes kept
}

TEST_F(GgufReader, AcceptsVersion2) {
  Bytes h = header(2, 0, 1);
  h.str("general.architecture").put<uint32_t>(8).str("llama");
  const GgufFile g = parse_gguf(write(h));
  EXPECT_EQ(g.version, 2u);
  EXPECT_EQ(g.find("general.architecture")->value.s, "llama");
}

TEST_F(GgufReader, PlainTensorsAreReversedDimsOverTheSameBytes) {
  // ne = [3, 2] is a row-major [2, 3] tensor; then one tensor of each plain type.
  struct T { const char* name; uint32_t type; DType dtype; std::vector<int64_t> ne; };
  const std::vector<T> tensors = {{"f32", ggml::F32, DType::F32, {3, 2}}, {"f16", ggml::F16, DType::F16, {4}},
                                  {"bf16", ggml::BF16, DType::BF16, {2, 1, 2}}, {"f64", ggml::F64, DType::F64, {2}},
                                  {"i8", ggml::I8, DType::I8, {5}}, {"i16", ggml::I16, DType::I16, {3}},
                                  {"i32", ggml::I32, DType::I32, {1, 1, 1, 2}}, {"i64", ggml::I64, DType::I64, {2}}};
  std::vector<std::vector<std::byte>> data;
  Bytes h = header(3, int64_t(tensors.size()), 0);
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    uint64_t n = 1;
    for (int64_t d : tensors[i].ne) n *= uint64_t(d);
    std::vector<std::byte> bytes(n * dtype_size(tensors[i].dtype));
    for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = std::byte(uint8_t(17 * i + k + 1));
    tensor_info(h, tensors[i].name, tensors[i].ne, tensors[i].type, offset);
    offset += (bytes.size() + 31) / 32 * 32;
    data.push_back(std::move(bytes));
  }
  h.pad(32);
  const size_t data_start = h.b.size();
  for (const auto& d : data) h.raw(d.data(), d.size()).pad(32);

  const Checkpoint ckpt = read_gguf(write(h));
  EXPECT_EQ(ckpt.format, "gguf");
  ASSERT_EQ(ckpt.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = *ckpt.tensors[i];
    EXPECT_EQ(t.name(), tensors[i].name);
    EXPECT_EQ(t.info().dtype, tensors[i].dtype);
    std::vector<uint64_t> shape(tensors[i].ne.rbegin(), tensors[i].ne.rend());
    EXPECT_EQ(t.info().shape, shape);
    EXPECT_EQ(t.read_all(), data[i]) << t.name();
    ASSERT_TRUE(t.file_span());  // a view into the file, not a copy
  }
  EXPECT_EQ(ckpt.tensors[0]->file_span()->offset, data_start);
  EXPECT_EQ((std::vector<uint64_t>{2, 3}), ckpt.tensors[0]->info().shape);
}

TEST_F(GgufReader, HonoursGeneralAlignment) {
  Bytes h = header(3, 2, 1);
  h.str("general.alignment").put<uint32_t>(4).put<uint32_t>(64);
  tensor_info(h, "a", {3}, ggml::F32, 0);
  tensor_info(h, "b", {2}, ggml::F32, 64);
  h.pad(64);
  const size_t data_start = h.b.size();
  const float a[3] = {1, 2, 3}, b[2] = {4, 5};
  h.raw(a, 12).pad(64).raw(b, 8).pad(64);
  const GgufFile g = parse_gguf(write(h));
  EXPECT_EQ(g.alignment, 64u);
  EXPECT_EQ(g.data_offset, data_start);
  EXPECT_EQ(data_start % 64, 0u);
  const Checkpoint ckpt = checkpoint_from_gguf(g);
  const auto bytes = ckpt.tensors[1]->read_all();
  float got[2];
  std::memcpy(got, bytes.data(), 8);
  EXPECT_EQ(got[0], 4.0f);
  EXPECT_EQ(got[1], 5.0f);
}

TEST_F(GgufReader, QuantizedTensorsReadAsF32InAnyChunk) {
  // Q8_0, 2 rows of 64: block b has d = 0.5 * (b + 1), qs[k] = k - 16.
  Bytes h = header(3, 1, 0);
  tensor_info(h, "q", {64, 2}, ggml::Q8_0, 0);
  h.pad(32);
  std::vector<float> expected;
  for (int blk = 0; blk < 4; ++blk) {
    const uint16_t d = f32_to_f16(0.5f * float(blk + 1));
    h.put<uint16_t>(d);
    for (int k = 0; k < 32; ++k) {
      h.put<int8_t>(int8_t(k - 16));
      expected.push_back(float(k - 16) * 0.5f * float(blk + 1));
    }
  }
  h.pad(32);
  const Checkpoint ckpt = read_gguf(write(h));
  const auto& t = *ckpt.tensors[0];
  EXPECT_EQ(t.info().dtype, DType::F32);
  EXPECT_EQ(t.info().shape, (std::vector<uint64_t>{2, 64}));
  EXPECT_FALSE(t.file_span());
  const auto all = t.read_all();
  ASSERT_EQ(all.size(), expected.size() * 4);
  EXPECT_EQ(std::memcmp(all.data(), expected.data(), all.size()), 0);
  // A range that starts and ends inside blocks.
  std::vector<std::byte> part(4 * 50);
  t.read(4 * 20, part, nullptr);
  EXPECT_EQ(std::memcmp(part.data(), expected.data() + 20, part.size()), 0);
}

// ---- malformed files: one id each ----

Bytes valid_prefix(uint32_t version = 3) { return header(version, 0, 0); }

TEST_F(GgufReader, BadMagic) {
  Bytes h;
  h.raw("GGUX", 4).put<uint32_t>(3).put<int64_t>(0).put<int64_t>(0);
  expect_error(h, "gguf.101");
  expect_error(Bytes{}.raw("GG", 2), "gguf.101");
}
TEST_F(GgufReader, Version0) { expect_error(valid_prefix(0), "gguf.102"); }
TEST_F(GgufReader, ByteSwappedVersion) { expect_error(valid_prefix(0x03000000), "gguf.103"); }
TEST_F(GgufReader, Version1) { expect_error(valid_prefix(1), "gguf.104"); }
TEST_F(GgufReader, Version4) { expect_error(valid_prefix(4), "gguf.105"); }
TEST_F(GgufReader, NegativeOrHugeCounts) {
  expect_error(header(3, 0, -1), "gguf.106");
  expect_error(header(3, -1, 0), "gguf.106");
  expect_error(header(3, int64_t(1) << 40, 0), "gguf.106");
}
TEST_F(GgufReader, TruncatedHeader) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(4).put<uint16_t>(7);  // a u32 cut in half
  expect_error(h, "gguf.107");
  Bytes t;
  t.raw("GGUF", 4).put<uint16_t>(3);
  expect_error(t, "gguf.107");
}
TEST_F(GgufReader, HugeStringLength) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(8).put<uint64_t>(~0ull).raw("abc", 3);
  expect_error(h, "gguf.108");
  Bytes k = header(3, 0, 1);
  k.put<uint64_t>(1ull << 40).raw("abcdefghijklmnop", 16);
  expect_error(k, "gguf.108");
}
TEST_F(GgufReader, EmptyKey) {
  Bytes h = header(3, 0, 1);
  h.str("").put<uint32_t>(4).put<uint32_t>(1);
  expect_error(h, "gguf.109");
}
TEST_F(GgufReader, DuplicateKey) {
  Bytes h = header(3, 0, 2);
  h.str("k").put<uint32_t>(4).put<uint32_t>(1);
  h.str("k").put<uint32_t>(4).put<uint32_t>(2);
  expect_error(h, "gguf.110");
}
TEST_F(GgufReader, UnknownValueType) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(13).put<uint32_t>(1).put<uint32_t>(0).put<uint32_t>(0);
  expect_error(h, "gguf.111");
}
TEST_F(GgufReader, NestedOrUnknownArrayElementType) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(4).put<uint64_t>(0);
  expect_error(h, "gguf.112");
  Bytes u = header(3, 0, 1);
  u.str("k").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(0).put<uint64_t>(0);
  expect_error(u, "gguf.112");
}
TEST_F(GgufReader, HugeArrayCount) {
  Bytes h = header(3, 0, 1);
  h.str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 62).put<uint64_t>(0);
  expect_error(h, "gguf.113");
  Bytes s = header(3, 0, 1);  // strings: each needs at least 8 bytes
  s.str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1000).put<uint64_t>(0);
  expect_error(s, "gguf.113");
}
TEST_F(GgufReader, AlignmentWithWrongType) {
  Bytes h = header(3, 0, 1);
  h.str("general.alignment").put<uint32_t>(10).put<uint64_t>(32);
  expect_error(h, "gguf.114");
  Bytes i = header(3, 0, 1);
  i.str("general.alignment").put<uint32_t>(5).put<int32_t>(32);
  expect_error(i, "gguf.114");
}
TEST_F(GgufReader, AlignmentNotPowerOfTwo) {
  for (uint32_t bad : {0u, 48u, 3u}) {
    Bytes h = header(3, 0, 1);
    h.str("general.alignment").put<uint32_t>(4).put<uint32_t>(bad);
    expect_error(h, "gguf.115");
  }
}

// A file with one F32 tensor whose info is written by `info`.
Bytes one_tensor(const std::function<void(Bytes&)>& info, size_t data_bytes = 64) {
  Bytes h = header(3, 1, 0);
  info(h);
  h.pad(32);
  h.b.resize(h.b.size() + data_bytes);
  return h;
}

TEST_F(GgufReader, TensorNameOver63Bytes) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, std::string(64, 'n'), {2}, ggml::F32, 0); }), "gguf.116");
}
TEST_F(GgufReader, DuplicateTensorName) {
  Bytes h = header(3, 2, 0);
  tensor_info(h, "a", {2}, ggml::F32, 0);
  tensor_info(h, "a", {2}, ggml::F32, 32);
  h.pad(32);
  h.b.resize(h.b.size() + 64);
  expect_error(h, "gguf.117");
}
TEST_F(GgufReader, MoreThanFourDims) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {1, 1, 1, 1, 2}, ggml::F32, 0); }), "gguf.118");
}
TEST_F(GgufReader, NegativeDim) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {2, -1}, ggml::F32, 0); }), "gguf.119");
}
TEST_F(GgufReader, OverflowingDims) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {int64_t(1) << 32, int64_t(1) << 32}, ggml::F32, 0); }),
               "gguf.120");
  // Element count fits, byte size does not.
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {int64_t(1) << 62}, ggml::F32, 0); }), "gguf.120");
}
TEST_F(GgufReader, UnknownGgmlType) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {2}, 99, 0); }), "gguf.121");
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {32}, 4, 0); }), "gguf.121");  // removed Q4_2
}
TEST_F(GgufReader, RowNotMultipleOfBlock) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {16, 2}, ggml::Q8_0, 0); }), "gguf.122");
}
TEST_F(GgufReader, MisalignedOffset) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {2}, ggml::F32, 8); }), "gguf.123");
}
TEST_F(GgufReader, OverlappingOffsets) {
  Bytes h = header(3, 2, 0);
  tensor_info(h, "a", {16}, ggml::F32, 0);  // 64 bytes
  tensor_info(h, "b", {2}, ggml::F32, 32);  // inside a
  h.pad(32);
  h.b.resize(h.b.size() + 128);
  expect_error(h, "gguf.124");
}
TEST_F(GgufReader, GapBetweenTensors) {
  Bytes h = header(3, 2, 0);
  tensor_info(h, "a", {2}, ggml::F32, 0);
  tensor_info(h, "b", {2}, ggml::F32, 64);  // expected 32
  h.pad(32);
  h.b.resize(h.b.size() + 128);
  expect_error(h, "gguf.125");
}
TEST_F(GgufReader, DataPastEndOfFile) {
  expect_error(one_tensor([](Bytes& h) { tensor_info(h, "a", {100}, ggml::F32, 0); }, 64), "gguf.126");
}
TEST_F(GgufReader, TypeWithoutDequantizerIsListedAndRefusedOnRead) {
  const auto path = write(one_tensor([](Bytes& h) { tensor_info(h, "a", {256}, 16, 0); }, 96));  // IQ2_XXS
  const Checkpoint ckpt = read_gguf(path);
  ASSERT_EQ(ckpt.tensors.size(), 1u);
  const auto* q = dynamic_cast<const DequantizedTensorSource*>(ckpt.tensors[0].get());
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ggml_type(), 16u);
  EXPECT_EQ(q->stored_bytes(), 66u);
  EXPECT_FALSE(q->decodable());
  try {
    ckpt.tensors[0]->read_all();
    FAIL() << "expected gguf.127";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "gguf.127") << e.what();
    EXPECT_EQ(e.where().file, path.string());
    EXPECT_EQ(e.where().tensor, "a");
    EXPECT_TRUE(e.where().offset.has_value());
  }
}
TEST_F(GgufReader, UnknownTypeIdIsNamed) {
  const auto path = write(one_tensor([](Bytes& h) { tensor_info(h, "a", {256}, 77, 0); }, 96));
  try {
    read_gguf(path);
    FAIL() << "expected gguf.121";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "gguf.121");
    EXPECT_NE(std::string(e.what()).find("ggml type id 77"), std::string::npos) << e.what();
  }
}

TEST_F(GgufReader, CliReportsTheIdAndLeavesNoOutput) {
  Bytes h = header(3, 0, 2);
  h.str("k").put<uint32_t>(4).put<uint32_t>(1);
  h.str("k").put<uint32_t>(4).put<uint32_t>(2);
  const auto path = write(h, "dup.gguf");
  const auto inspect = test::run_supra({"inspect", path.string()});
  EXPECT_EQ(inspect.exit_code, 3);
  EXPECT_NE(inspect.err.find("[gguf.110]"), std::string::npos) << inspect.err;
  const auto out = dir / "out";
  std::filesystem::create_directory(out);
  const auto convert = test::run_supra({"convert", path.string(), (out / "x.safetensors").string()});
  EXPECT_EQ(convert.exit_code, 3);
  EXPECT_TRUE(test::list_dir(out).empty());
}

}  // namespace
}  // namespace supra
