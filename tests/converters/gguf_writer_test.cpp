// GGUF writer: the byte-exact minimal file that ggml's docs/gguf.md "File Structure" defines, alignment and
// padding, determinism, Q8_0 against an independent quantizer, and round
// trips (safetensors -> gguf -> safetensors, gguf -> gguf).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "converters/format.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "converters/gguf/gguf_writer.hpp"
#include "converters/gguf/quantize.hpp"
#include "schema/error.hpp"
#include "tests/half_reference.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

const Format& gguf() { return *find_format("gguf"); }

// Writes through the registered format with explicit KVs.
void write_with_kvs(const Checkpoint& ckpt, std::vector<GgufKV> kvs, const std::filesystem::path& out,
                    const GgufWriteOptions& options = {}) {
  GgufOutput layout = layout_gguf(ckpt, std::move(kvs), out, options);
  OutputTransaction tx(gguf().output_folder(out), false);
  WriteReport report;
  write_byte_plans(tx, {layout.file}, WriteOptions{}, report);
  tx.commit();
}

Checkpoint one_tensor(TensorPtr t) {
  Checkpoint c;
  c.tensors.push_back(std::move(t));
  return c;
}

TEST(GgufWriter, MinimalFileIsByteExact) {
  test::TempDir dir;
  const auto ckpt = one_tensor(test::make_tensor_from_floats("a", DType::F32, {2}, {1.0f, 2.0f}));
  write_with_kvs(ckpt, {{"general.architecture", GgufValue::string("llama")}}, dir / "m.gguf");
  // ggml docs/gguf.md "File Structure", field by field.
  std::vector<uint8_t> want;
  auto put = [&](std::initializer_list<uint8_t> b) { want.insert(want.end(), b); };
  auto text = [&](const char* s) { want.insert(want.end(), s, s + std::strlen(s)); };
  put({0x47, 0x47, 0x55, 0x46});                  // 0 magic
  put({3, 0, 0, 0});                              // 4 version
  put({1, 0, 0, 0, 0, 0, 0, 0});                  // 8 n_tensors
  put({1, 0, 0, 0, 0, 0, 0, 0});                  // 16 n_kv
  put({20, 0, 0, 0, 0, 0, 0, 0});                 // 24 key length
  text("general.architecture");                   // 32
  put({8, 0, 0, 0});                              // 52 type string
  put({5, 0, 0, 0, 0, 0, 0, 0});                  // 56 string length
  text("llama");                                  // 64
  put({1, 0, 0, 0, 0, 0, 0, 0});                  // 69 name length
  text("a");                                      // 77
  put({1, 0, 0, 0});                              // 78 n_dims
  put({2, 0, 0, 0, 0, 0, 0, 0});                  // 82 ne0
  put({0, 0, 0, 0});                              // 90 type F32
  put({0, 0, 0, 0, 0, 0, 0, 0});                  // 94 offset
  want.resize(128, 0);                            // 102: 26 zero bytes
  put({0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40});  // 128 data
  want.resize(160, 0);                            // 136: 24 zero bytes
  const auto got = test::read_file_bytes(dir / "m.gguf");
  ASSERT_EQ(got.size(), 160u);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), 160), 0);
}

TEST(GgufWriter, Q8_0TestVector) {
  // ggml's quantize_row_q8_0 on x[k] = k - 16 -> d = 0x3008, qs[0] = -127, qs[16] = 0.
  float x[32];
  for (int k = 0; k < 32; ++k) x[k] = float(k - 16);
  std::byte block[34];
  quantize_q8_0(x, 1, block);
  uint16_t d;
  std::memcpy(&d, block, 2);
  EXPECT_EQ(d, 0x3008);
  EXPECT_EQ(int8_t(block[2]), -127);
  EXPECT_EQ(int8_t(block[2 + 16]), 0);
  const float id = 1.0f / (16.0f / 127.0f);
  for (int k = 0; k < 32; ++k) EXPECT_EQ(int8_t(block[2 + k]), int8_t(std::roundf(float(k - 16) * id))) << k;
  EXPECT_EQ(int8_t(block[2 + 31]), 119);
  // Decoding uses the f16 d: x[0] comes back as -127 * 0.1259765625.
  EXPECT_EQ(float(int8_t(block[2])) * 0.1259765625f, -15.9990234375f);
}

TEST(GgufWriter, HonoursAlignmentAndPadsEveryTensorWithZeros) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors.push_back(test::make_tensor("a", DType::F32, {3}));
  ckpt.tensors.push_back(test::make_tensor("b", DType::F16, {5}));
  write_with_kvs(ckpt, {{"general.architecture", GgufValue::string("x")}, {"general.alignment", GgufValue::u32(64)}},
                 dir / "a.gguf");
  const GgufFile g = parse_gguf(dir / "a.gguf");
  EXPECT_EQ(g.alignment, 64u);
  EXPECT_EQ(g.data_offset % 64, 0u);
  EXPECT_EQ(g.tensors[1].offset, 64u);
  const auto bytes = test::read_file_bytes(dir / "a.gguf");
  EXPECT_EQ(bytes.size(), g.data_offset + 128);  // last tensor padded too
  for (size_t i = g.data_offset + 12; i < g.data_offset + 64; ++i) ASSERT_EQ(bytes[i], std::byte{0}) << i;
  for (size_t i = g.data_offset + 64 + 10; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], std::byte{0}) << i;
  EXPECT_EQ(checkpoint_from_gguf(g).tensors[1]->read_all(), ckpt.tensors[1]->read_all());
}

TEST(GgufWriter, RefusesBadAlignmentKv) {
  test::TempDir dir;
  const auto ckpt = one_tensor(test::make_tensor("a", DType::F32, {3}));
  for (const GgufValue& bad : {GgufValue::uint(GgufValueType::U64, 32), GgufValue::u32(48)}) {
    try {
      layout_gguf(ckpt, {{"general.alignment", bad}}, dir / "x.gguf", {});
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "gguf.307");
    }
  }
}

TEST(GgufWriter, SameInputSameBytes) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors.push_back(test::make_tensor("w", DType::BF16, {64, 32}, 3));
  ckpt.tensors.push_back(test::make_tensor("n", DType::F32, {32}, 4));
  ckpt.metadata["format"] = "pt";
  WriteOptions options;
  options.quantize = "q8_0";
  write_checkpoint(gguf(), ckpt, dir / "1.gguf", options);
  options.threads = 2;
  write_checkpoint(gguf(), ckpt, dir / "2.gguf", options);
  EXPECT_EQ(test::read_file_bytes(dir / "1.gguf"), test::read_file_bytes(dir / "2.gguf"));
}

void expect_write_error(const Checkpoint& ckpt, const std::string& id) {
  test::TempDir dir;
  try {
    write_checkpoint(gguf(), ckpt, dir / "x.gguf", {});
    FAIL() << "expected " << id;
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), id) << e.what();
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(GgufWriter, RejectsNamesOver63Bytes) {
  expect_write_error(one_tensor(test::make_tensor(std::string(64, 'n'), DType::F32, {2})), "gguf.301");
  // 63 bytes is fine.
  test::TempDir dir;
  write_checkpoint(gguf(), one_tensor(test::make_tensor(std::string(63, 'n'), DType::F32, {2})), dir / "ok.gguf", {});
  EXPECT_EQ(read_gguf(dir / "ok.gguf").tensors[0]->name(), std::string(63, 'n'));
}

TEST(GgufWriter, RejectsWhatGgufCannotHold) {
  expect_write_error(one_tensor(test::make_tensor("r5", DType::F32, {1, 1, 1, 1, 2})), "gguf.302");
  expect_write_error(one_tensor(test::make_tensor("u8", DType::U8, {2})), "gguf.303");
  Checkpoint dup;
  dup.tensors = {test::make_tensor("a", DType::F32, {2}), test::make_tensor("a", DType::F32, {2})};
  expect_write_error(dup, "gguf.304");
}

// --dtype casts only floats: the message must not send an integer tensor there.
TEST(GgufWriter, NoGgufTypeSuggestsWhatWorks) {
  test::TempDir dir;
  const auto message = [&](DType dtype) {
    try {
      layout_gguf(one_tensor(test::make_tensor("mask", dtype, {2})), {}, dir / "x.gguf", {});
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "gguf.303");
      return std::string(e.what());
    }
    ADD_FAILURE() << "no error";
    return std::string();
  };
  const std::string u8 = message(DType::U8);
  EXPECT_NE(u8.find("--exclude '^mask$'"), std::string::npos) << u8;
  EXPECT_EQ(u8.find("cast it"), std::string::npos) << u8;
  const std::string f8 = message(DType::F8_E4M3);
  EXPECT_NE(f8.find("--dtype f16"), std::string::npos) << f8;
}

TEST(GgufMetadata, StringFormIsExact) {
  EXPECT_EQ(gguf_value_string_form(GgufValue::u32(4096)), "4096");
  EXPECT_EQ(gguf_value_string_form(GgufValue::sint(GgufValueType::I64, -3)), "-3");
  EXPECT_EQ(gguf_value_string_form(GgufValue::f32(1e-5f)), "1e-05");
  EXPECT_EQ(gguf_value_string_form(GgufValue::real(GgufValueType::F64, 0.1)), "0.1");
  EXPECT_EQ(gguf_value_string_form(GgufValue::boolean(true)), "true");
  EXPECT_EQ(gguf_value_string_form(GgufValue::string("line\nnext")), "line\nnext");
  EXPECT_EQ(gguf_value_string_form(GgufValue::string("\xff")), std::nullopt);
  EXPECT_EQ(gguf_value_string_form(GgufValue::string(std::string(kGgufMaxCarriedStringBytes + 1, 'x'))), std::nullopt);
  EXPECT_EQ(gguf_value_string_form(GgufValue::array(GgufValueType::U32, {GgufValue::u32(1)})), std::nullopt);
}

TEST(GgufWriter, UnknownQuantizationIsAUsageError) {
  test::TempDir dir;
  try {
    layout_gguf(one_tensor(test::make_tensor("a", DType::F32, {2})), {}, dir / "x.gguf", {"q4_k"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST(GgufWriter, SafetensorsToGgufAndBackIsBitExact) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("model.embed_tokens.weight", DType::BF16, {16, 8}, 1),
                  test::make_tensor("model.layers.0.self_attn.q_proj.weight", DType::F16, {8, 8}, 2),
                  test::make_tensor("model.norm.weight", DType::F32, {8}, 3),
                  test::make_tensor("scalar", DType::F32, {}, 4),
                  test::make_tensor("ids", DType::I64, {3}, 5)};
  ckpt.metadata["format"] = "pt";
  const Format& st = *find_format("safetensors");
  write_checkpoint(st, ckpt, dir / "in.safetensors", {});
  const Checkpoint in = st.read(dir / "in.safetensors", {});
  write_checkpoint(gguf(), in, dir / "mid.gguf", {});
  const Checkpoint mid = gguf().read(dir / "mid.gguf", {});
  EXPECT_EQ(mid.metadata.at("format"), "pt");  // carried as supra.meta.format
  EXPECT_EQ(mid.display_metadata.at("gguf.general.architecture"), "unknown");
  write_checkpoint(st, mid, dir / "out.safetensors", {});
  const Checkpoint out = st.read(dir / "out.safetensors", {});
  ASSERT_EQ(out.tensors.size(), ckpt.tensors.size());
  for (const auto& t : ckpt.tensors) {
    const TensorSource* back = out.find(t->name());
    ASSERT_NE(back, nullptr) << t->name();
    EXPECT_EQ(back->info().dtype, t->info().dtype);
    // A scalar comes back as [1]: ggml has no rank 0 (documented).
    EXPECT_EQ(back->info().shape, t->info().shape.empty() ? std::vector<uint64_t>{1} : t->info().shape);
    EXPECT_EQ(back->read_all(), t->read_all()) << t->name();
  }
  // GGUF dims are the reversed shape.
  const GgufFile g = parse_gguf(dir / "mid.gguf");
  for (const auto& t : g.tensors)
    if (t.name == "model.embed_tokens.weight") {
      EXPECT_EQ(t.ne, (std::vector<uint64_t>{8, 16}));
      EXPECT_EQ(t.ggml_type, ggml::BF16);
    }
}

std::vector<GgufKV> every_kind_of_kv() {
  using T = GgufValueType;
  std::vector<GgufValue> strings = {GgufValue::string("<unk>"), GgufValue::string(""), GgufValue::string("\xe2\x96\x81the")};
  std::vector<GgufValue> ints = {GgufValue::sint(T::I32, -7), GgufValue::sint(T::I32, 1 << 30)};
  std::vector<GgufValue> floats = {GgufValue::f32(-0.0f), GgufValue::f32(1e-6f), GgufValue::f32(NAN)};
  return {{"general.architecture", GgufValue::string("llama")},
          {"general.alignment", GgufValue::u32(16)},
          {"general.file_type", GgufValue::u32(1)},
          {"t.u8", GgufValue::uint(T::U8, 255)},
          {"t.i8", GgufValue::sint(T::I8, -128)},
          {"t.u16", GgufValue::uint(T::U16, 65535)},
          {"t.i16", GgufValue::sint(T::I16, -32768)},
          {"t.i32", GgufValue::sint(T::I32, INT32_MIN)},
          {"t.f32", GgufValue::f32(3.14159f)},
          {"t.bool", GgufValue::boolean(false)},
          {"t.u64", GgufValue::uint(T::U64, UINT64_MAX)},
          {"t.i64", GgufValue::sint(T::I64, INT64_MIN)},
          {"t.f64", GgufValue::real(T::F64, 1.0 / 3.0)},
          {"tokenizer.ggml.tokens", GgufValue::array(T::STRING, strings)},
          {"t.ints", GgufValue::array(T::I32, ints)},
          {"t.floats", GgufValue::array(T::F32, floats)},
          {"t.empty", GgufValue::array(T::U64, {})}};
}

TEST(GgufWriter, GgufToGgufKeepsEveryKvWithItsType) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("blk.0.attn_q.weight", DType::F16, {8, 8}), test::make_tensor("n", DType::F32, {8})};
  const auto kvs = every_kind_of_kv();
  write_with_kvs(ckpt, kvs, dir / "1.gguf");
  const Checkpoint first = gguf().read(dir / "1.gguf", {});
  write_checkpoint(gguf(), first, dir / "2.gguf", {});  // KVs come from format_metadata["gguf"]
  const GgufFile second = parse_gguf(dir / "2.gguf");
  EXPECT_EQ(second.kvs, kvs);
  EXPECT_EQ(test::read_file_bytes(dir / "1.gguf"), test::read_file_bytes(dir / "2.gguf"));
}

TEST(GgufWriter, ConvertCommandKeepsKvsThroughDtypeCast) {
  test::TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("w", DType::F32, {4, 32})};
  write_with_kvs(ckpt, every_kind_of_kv(), dir / "in.gguf");
  const auto r = test::run_supra({"convert", (dir / "in.gguf").string(), (dir / "out.gguf").string(), "--dtype", "f16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const GgufFile g = parse_gguf(dir / "out.gguf");
  EXPECT_EQ(g.kvs, every_kind_of_kv());  // general.file_type stays 1 (F16)
  EXPECT_EQ(g.tensors[0].ggml_type, ggml::F16);
}

// Independent Q8_0 reference: the compiler's half type for the scale.
std::vector<float> reference_q8_0_roundtrip(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0;
    for (size_t k = 0; k < 32; ++k) amax = std::max(amax, std::fabs(x[b + k]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const float dh = float(static_cast<test::ReferenceHalf>(d));
    for (size_t k = 0; k < 32; ++k) out[b + k] = float(int(std::roundf(x[b + k] * id))) * dh;
  }
  return out;
}

TEST(GgufWriter, Q8_0RoundTripEqualsDequantizeOfQuantize) {
  test::TempDir dir;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(6 * 96);
  for (float& v : w) v = normal(rng);
  w[5] = 0.5f;  // an outlier
  for (size_t k = 96; k < 128; ++k) w[k] = 0;  // an all-zero block
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor_from_floats("w", DType::F32, {6, 96}, w),
                  test::make_tensor("norm", DType::BF16, {96}, 2),
                  test::make_tensor("odd", DType::F16, {3, 40}, 3)};
  WriteOptions options;
  options.quantize = "q8_0";
  write_checkpoint(gguf(), ckpt, dir / "q.gguf", options);

  const GgufFile g = parse_gguf(dir / "q.gguf");
  EXPECT_EQ(g.tensors[0].ggml_type, ggml::Q8_0);
  EXPECT_EQ(g.tensors[0].nbytes, 6u * 3 * 34);
  EXPECT_EQ(g.tensors[1].ggml_type, ggml::F32);  // 1-D -> F32
  EXPECT_EQ(g.tensors[2].ggml_type, ggml::F16);  // 40 columns: not quantizable, kept
  EXPECT_EQ(g.find("general.file_type")->value, GgufValue::u32(7));
  EXPECT_EQ(g.find("general.quantization_version")->value, GgufValue::u32(2));

  const Checkpoint back = checkpoint_from_gguf(g);
  const auto bytes = back.tensors[0]->read_all();
  std::vector<float> got(w.size());
  std::memcpy(got.data(), bytes.data(), bytes.size());
  const auto want = reference_q8_0_roundtrip(w);
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
  // The BF16 norm widened exactly to F32.
  const auto norm = back.tensors[1]->read_all();
  const auto orig = ckpt.tensors[1]->read_all();
  for (size_t i = 0; i < 96; ++i) {
    uint16_t b;
    float f;
    std::memcpy(&b, orig.data() + 2 * i, 2);
    std::memcpy(&f, norm.data() + 4 * i, 4);
    ASSERT_EQ(f, bf16_to_f32(b));
  }
  EXPECT_EQ(back.tensors[2]->read_all(), ckpt.tensors[2]->read_all());
}

TEST(GgufWriter, InspectShowsKvs) {
  test::TempDir dir;
  write_with_kvs(one_tensor(test::make_tensor("a", DType::F32, {2})), every_kind_of_kv(), dir / "i.gguf");
  const auto r = test::run_supra({"inspect", (dir / "i.gguf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gguf"), std::string::npos);
  EXPECT_NE(r.out.find("gguf.general.architecture = llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gguf.t.u64 = 18446744073709551615"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gguf.tokenizer.ggml.tokens = [\"<unk>\", \"\", \"\xe2\x96\x81the\"]"), std::string::npos) << r.out;
  const auto j = test::run_supra({"inspect", (dir / "i.gguf").string(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
}

}  // namespace
}  // namespace supra
