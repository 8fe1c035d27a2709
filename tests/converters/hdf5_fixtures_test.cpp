// Reads h5py-made files (tools/fixtures/make_hdf5_fixtures.py): Keras-like
// nesting, chunked + gzip datasets, bool enum, scalars, empty, big-endian,
// string attributes; and malformed files through the CLI (error id, exit
// code, nothing left behind). Expected values are the generator's formulas.
#include <gtest/gtest.h>

#include <cstring>

#include "converters/hdf5/hdf5_reader.hpp"
#include "schema/float_convert.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::fixture_path;

const TensorSource& get(const Checkpoint& c, const std::string& name) {
  const TensorSource* t = c.find(name);
  if (!t) throw std::runtime_error("missing tensor " + name);
  return *t;
}

template <class T>
std::vector<T> values(const TensorSource& t) {
  const auto bytes = t.read_all();
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

TEST(Hdf5Fixtures, KerasLikeNestedWeights) {
  const Checkpoint c = read_hdf5(fixture_path("hdf5/keras_like.h5"));
  ASSERT_EQ(c.tensors.size(), 4u);
  const auto& k = get(c, "model_weights/dense/dense/kernel:0");
  EXPECT_EQ(k.info().shape, (std::vector<uint64_t>{4, 3}));
  const auto kv = values<float>(k);
  for (size_t i = 0; i < kv.size(); ++i) EXPECT_EQ(kv[i], float(i) * 0.5f - 1.0f);
  const auto bv = values<float>(get(c, "model_weights/dense_1/dense_1/bias:0"));
  EXPECT_EQ(bv, (std::vector<float>{0.0f, 0.25f}));
  EXPECT_EQ(c.metadata.at("keras_version"), "2.11.0");
  EXPECT_EQ(c.metadata.at("model_config"), "{\"class_name\": \"Sequential\"}");
}

TEST(Hdf5Fixtures, ChunkedAndGzipDatasets) {
  const Checkpoint c = read_hdf5(fixture_path("hdf5/chunked.h5"));
  const auto& a = get(c, "gzip_f32");
  EXPECT_FALSE(a.file_span().has_value()) << "compressed data cannot be a file view";
  const auto av = values<float>(a);
  ASSERT_EQ(av.size(), 37u * 19u);
  for (size_t i = 0; i < av.size(); ++i) ASSERT_EQ(av[i], float(i) / 7.0f) << i;
  // A read that starts mid-row and crosses chunk boundaries.
  std::vector<float> part(50);
  a.read(23 * 4, std::as_writable_bytes(std::span(part)));
  for (size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], float(23 + i) / 7.0f);
  const auto bv = values<double>(get(c, "shuffle_gzip_f64"));
  for (size_t i = 0; i < bv.size(); ++i) ASSERT_EQ(bv[i], double(i) - 50.5);
  const auto cv = values<int64_t>(get(c, "chunked_i64"));
  for (size_t i = 0; i < cv.size(); ++i) ASSERT_EQ(cv[i], int64_t(i) * -3);
  const auto& d = get(c, "gzip_f16");
  EXPECT_EQ(d.info().dtype, DType::F16);
  const auto dv = values<uint16_t>(d);
  for (size_t i = 0; i < dv.size(); ++i) ASSERT_EQ(f16_to_f32(dv[i]), float(i) / 8.0f);
}

TEST(Hdf5Fixtures, BoolScalarEmptyBigEndianAndStrings) {
  const Checkpoint c = read_hdf5(fixture_path("hdf5/mixed.h5"));
  EXPECT_EQ(c.find("text"), nullptr) << "string datasets are not tensors";
  const auto& b = get(c, "bool");
  EXPECT_EQ(b.info().dtype, DType::BOOL);
  EXPECT_EQ(values<uint8_t>(b), (std::vector<uint8_t>{1, 0, 1, 1, 0}));
  const auto& s = get(c, "scalar_f32");
  EXPECT_TRUE(s.info().shape.empty());
  EXPECT_EQ(values<float>(s), std::vector<float>{3.5f});
  const auto& e = get(c, "empty_f32");
  EXPECT_EQ(e.info().shape, (std::vector<uint64_t>{0, 5}));
  EXPECT_TRUE(e.read_all().empty());
  const auto& be = get(c, "be_f32");
  EXPECT_FALSE(be.file_span().has_value()) << "big-endian data needs conversion";
  EXPECT_EQ(values<float>(be), (std::vector<float>{0, 1.5f, 3, 4.5f, 6, 7.5f}));
  EXPECT_EQ(values<int8_t>(get(c, "i8")), (std::vector<int8_t>{-5, -4, -3, -2, -1, 0, 1, 2, 3, 4}));
  EXPECT_EQ(values<uint16_t>(get(c, "u16"))[9], 9000);
  EXPECT_EQ(values<uint8_t>(get(c, "a/b/deep_u8")), (std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6}));
  const auto f16 = values<uint16_t>(get(c, "f16"));
  for (size_t i = 0; i < f16.size(); ++i) EXPECT_EQ(f16_to_f32(f16[i]), float(i) - 2.5f);
  EXPECT_EQ(c.metadata.at("title"), "mixed fixture");  // variable-length
  EXPECT_EQ(c.metadata.at("fixed"), "fixed-bytes");    // fixed-length
  EXPECT_EQ(c.metadata.at("answer"), "42");
}

void expect_clean_failure(const std::string& fixture, const std::string& id) {
  test::TempDir dir;
  const auto r = test::run_supra({"convert", fixture_path("hdf5/" + fixture).string(), (dir / "out.safetensors").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("[" + id + "]"), std::string::npos) << r.err;
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(Hdf5Fixtures, TruncatedFileIsAClearError) { expect_clean_failure("truncated.h5", "hdf5.101"); }
TEST(Hdf5Fixtures, AbsurdShapeIsAClearError) { expect_clean_failure("absurd_shape.h5", "hdf5.106"); }

}  // namespace
}  // namespace supra
