// supra's HDF5 writer -> reader keeps every dtype, shape, name, order and
// metadata bit for bit; failures leave no output. (h5py's view of the same
// files is checked in tests/interop/test_hdf5.py.)
#include <gtest/gtest.h>

#include "converters/format.hpp"
#include "converters/hdf5/hdf5_reader.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::make_tensor;
using test::TempDir;

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.format = "safetensors";
  uint32_t seed = 1;
  for (DType t : kAllDTypes) c.tensors.push_back(make_tensor(std::string(dtype_name(t)) + ".w", t, {3, 5}, seed++));
  c.tensors.push_back(make_tensor("scalar", DType::F32, {}, seed++));
  c.tensors.push_back(make_tensor("empty", DType::BF16, {0, 4}, seed++));
  c.tensors.push_back(make_tensor("model/layers.0/w%1", DType::F16, {2, 2, 2}, seed++));
  c.tensors.push_back(make_tensor(".", DType::I32, {1}, seed++));
  c.metadata = {{"format", "pt"}, {"arch", "llama"}, {"config_json", "{\"a\": 1}"}, {"", "empty key"}};
  c.format_metadata["gguf"] = {{"general.name", {{"type", "string"}, {"value", "x"}}}};
  return c;
}

void expect_same(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const TensorInfo& x = a.tensors[i]->info();
    const TensorInfo& y = b.tensors[i]->info();
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dtype, y.dtype) << x.name;
    EXPECT_EQ(x.shape, y.shape) << x.name;
    EXPECT_EQ(a.tensors[i]->read_all(), b.tensors[i]->read_all()) << x.name;
  }
}

TEST(Hdf5RoundTrip, EveryDtypeNameAndMetadataComesBackExactly) {
  TempDir dir;
  const Checkpoint source = sample_checkpoint();
  const Format& h5 = choose_output_format(dir / "m.h5", "");
  ASSERT_EQ(h5.name, "hdf5");
  write_checkpoint(h5, source, dir / "m.h5", WriteOptions{});
  EXPECT_EQ(detect_input_format(dir / "m.h5").name, "hdf5");
  const Checkpoint back = read_hdf5(dir / "m.h5");
  expect_same(source, back);
  EXPECT_EQ(back.metadata, source.metadata);
  EXPECT_EQ(back.format_metadata, source.format_metadata);
  // Contiguous datasets of our own layout are views into the file.
  for (const auto& t : back.tensors) {
    if (t->info().nbytes() > 0) {
      EXPECT_TRUE(t->file_span().has_value()) << t->name();
    }
  }
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"m.h5"});
}

TEST(Hdf5RoundTrip, TensorsLargerThanOneChunkStreamInHyperslabs) {
  TempDir dir;
  Checkpoint c;
  c.format = "test";
  // 3 x 1000003 f32 = 12 MB: chunks of 8 MiB cut rows in the middle.
  c.tensors.push_back(make_tensor("wide", DType::F32, {3, 1000003}, 5));
  c.tensors.push_back(make_tensor("long", DType::U8, {9u << 20}, 6));
  write_checkpoint(*find_format("hdf5"), c, dir / "big.hdf5", WriteOptions{});
  expect_same(c, read_hdf5(dir / "big.hdf5"));
}

class FailingSource final : public TensorSource {
 public:
  FailingSource() : TensorSource(TensorInfo{"bad", DType::F32, {4}}) {}

 private:
  void read_range(uint64_t, std::span<std::byte>, CastStats*) const override {
    throw bad_input("test.fail", {}, "source failed");
  }
};

TEST(Hdf5RoundTrip, FailedWriteLeavesNothing) {
  TempDir dir;
  Checkpoint c = sample_checkpoint();
  c.tensors.push_back(std::make_shared<FailingSource>());
  EXPECT_THROW(write_checkpoint(*find_format("hdf5"), c, dir / "m.h5", WriteOptions{}), Error);
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(Hdf5RoundTrip, DuplicateNamesAreRefused) {
  TempDir dir;
  Checkpoint c;
  c.tensors = {make_tensor("a", DType::F32, {1}), make_tensor("a", DType::F32, {1})};
  try {
    write_checkpoint(*find_format("hdf5"), c, dir / "m.h5", WriteOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "hdf5.302");
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

}  // namespace
}  // namespace supra
