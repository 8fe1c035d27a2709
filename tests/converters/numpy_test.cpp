// NumPy .npy/.npz against files numpy wrote (tools/fixtures/make_numpy_fixtures.py):
// values as numpy sees them, np.save's exact header bytes, and clean errors.
#include <gtest/gtest.h>

#include "converters/format.hpp"
#include "converters/numpy/npy_header.hpp"
#include "converters/numpy/numpy_reader.hpp"
#include "converters/numpy/numpy_writer.hpp"
#include "schema/error.hpp"
#include "tests/converters/torch_numpy_expectations.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::expect_matches;
using test::fixture_path;

Checkpoint read(const std::string& name) { return read_numpy(fixture_path("numpy/" + name)); }

template <typename F>
std::string error_id(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

TEST(NumpyReader, StoredNpzMatchesNumpy) {
  Checkpoint c = read("basic.npz");
  expect_matches(c, "numpy/basic.expected.json");
  EXPECT_TRUE(c.find("f32")->file_span().has_value());  // read in place
}
TEST(NumpyReader, DeflatedNpzMatchesNumpy) { expect_matches(read("compressed.npz"), "numpy/compressed.expected.json"); }
TEST(NumpyReader, NpyVersions1To3) {
  expect_matches(read("single.npy"), "numpy/single.expected.json");
  expect_matches(read("v2.npy"), "numpy/v2.expected.json");
  expect_matches(read("v3.npy"), "numpy/v3.expected.json");
}
TEST(NumpyReader, FortranOrderComesOutRowMajor) { expect_matches(read("fortran.npy"), "numpy/fortran.expected.json"); }

TEST(NumpyReader, MalformedFilesHaveDistinctIds) {
  EXPECT_EQ(error_id([] { read("truncated.npy"); }), "numpy.107");
  EXPECT_EQ(error_id([] { read("big_endian.npy"); }), "numpy.106");
  EXPECT_EQ(error_id([] { read("object.npy"); }), "numpy.105");
  EXPECT_EQ(error_id([] { read("bad_crc.npz"); }), "zip.110");
}

// numpy/lib/format.py (NEP 1, format version 1.0): float32 (2, 3) -> 93 4E 55 4D 50 59 01 00 76 00, the dict,
// 58 spaces, newline; data at byte 128.
TEST(NpyHeader, MatchesTheTestVector) {
  const auto h = numpy::make_npy_header(DType::F32, {2, 3}, "x");
  std::string want("\x93NUMPY\x01\x00\x76\x00", 10);
  want += "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  want.append(58, ' ');
  want += '\n';
  ASSERT_EQ(h.size(), 128u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(h.data()), h.size()), want);
}

TEST(NpyHeader, EqualsWhatNpSaveWrote) {
  const auto file = test::read_file_bytes(fixture_path("numpy/single.npy"));
  const auto h = numpy::make_npy_header(DType::F32, {3, 4}, "x");
  ASSERT_LE(h.size(), file.size());
  EXPECT_TRUE(std::equal(h.begin(), h.end(), file.begin()));
}

TEST(NumpyWriter, NpzRoundTripIsBitExact) {
  test::TempDir dir;
  write_checkpoint(*find_format("numpy"), read("basic.npz"), dir / "out.npz", {});
  expect_matches(read_numpy(dir / "out.npz"), "numpy/basic.expected.json");
  // A .npy's tensor is named after the file.
  write_checkpoint(*find_format("numpy"), read("fortran.npy"), dir / "fortran.npy", {});
  expect_matches(read_numpy(dir / "fortran.npy"), "numpy/fortran.expected.json");
}

TEST(NumpyWriter, RefusesBf16AndManyTensorsInOneNpy) {
  test::TempDir dir;
  Checkpoint bf;
  bf.tensors.push_back(test::make_tensor("x", DType::BF16, {2}));
  EXPECT_EQ(error_id([&] { write_checkpoint(*find_format("numpy"), bf, dir / "x.npz", {}); }), "numpy.302");
  EXPECT_EQ(error_id([&] { write_checkpoint(*find_format("numpy"), read("basic.npz"), dir / "x.npy", {}); }),
            "numpy.301");
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(NumpyCli, MalformedInputsExitNonZeroLeavingNothing) {
  test::TempDir dir;
  for (const auto& name : {"truncated.npy", "big_endian.npy", "bad_crc.npz"}) {
    auto r = test::run_supra({"convert", fixture_path(std::string("numpy/") + name).string(), (dir / "o.safetensors").string()});
    EXPECT_EQ(r.exit_code, 3) << name << ": " << r.err;
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

}  // namespace
}  // namespace supra
