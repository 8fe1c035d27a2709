// Re-layout ops: the hd = 8 RoPE row orders of convert_hf_to_gguf.py's permute and HF's convert_llama_weights_to_hf.py, row by row, and
// property tests (permute∘unpermute = id, split∘concat = id) on random
// tensors, read whole and in odd-sized chunks at odd offsets.
#include "schema/relayout/layout_ops.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::make_tensor;

// A [rows, cols] F32 tensor whose element (r, c) is r * 1000 + c.
TensorPtr row_tagged(uint64_t rows, uint64_t cols) {
  std::vector<float> v(rows * cols);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) v[r * cols + c] = float(r * 1000 + c);
  return test::make_tensor_from_floats("t", DType::F32, {rows, cols}, v);
}

std::vector<float> floats(const TensorPtr& t) {
  const auto bytes = t->read_all();
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// Reads `t` in chunks of `chunk` elements starting at element offsets that do
// not line up with rows, and checks the result equals read_all().
void expect_chunked_reads_agree(const TensorPtr& t, uint64_t chunk) {
  const auto whole = t->read_all();
  const size_t esz = dtype_size(t->info().dtype);
  std::vector<std::byte> pieced(whole.size());
  for (uint64_t off = 0; off < whole.size(); off += chunk * esz) {
    const uint64_t n = std::min<uint64_t>(chunk * esz, whole.size() - off);
    t->read(off, std::span(pieced).subspan(off, n));
  }
  ASSERT_EQ(pieced, whole) << t->name() << " chunk " << chunk;
}

TEST(LayoutOps, RopeHd8MetaToHfRowByRow) {
  // convert_llama_weights_to_hf.py permute: HF row k takes Meta row [0,2,4,6,1,3,5,7][k].
  const TensorPtr meta = row_tagged(8, 3);
  const auto hf = floats(permute_rope_pairs_to_halves(meta, 1, "q"));
  const int expected[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  for (int k = 0; k < 8; ++k)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(hf[k * 3 + c], float(expected[k] * 1000 + c)) << "row " << k;
}

TEST(LayoutOps, RopeHd8HfToGgufRowByRow) {
  // convert_hf_to_gguf.py LlamaModel.permute: GGUF row k takes HF row [0,4,1,5,2,6,3,7][k].
  const TensorPtr hf = row_tagged(8, 3);
  const auto gguf = floats(permute_rope_halves_to_pairs(hf, 1, "q"));
  const int expected[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (int k = 0; k < 8; ++k)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(gguf[k * 3 + c], float(expected[k] * 1000 + c)) << "row " << k;
}

TEST(LayoutOps, RopeMetaToHfToGgufIsIdentityForThreeHeads) {
  // §7.4: "GGUF rows equal Meta rows", verified for 3 heads.
  const TensorPtr meta = row_tagged(24, 2);
  const TensorPtr gguf = permute_rope_halves_to_pairs(permute_rope_pairs_to_halves(meta, 3, "hf"), 3, "gguf");
  EXPECT_EQ(gguf->read_all(), meta->read_all());
}

TEST(LayoutOps, RopePermutationsAreInversesWithGqa) {
  // q uses n_heads, k its own kv head count: 8 heads / 2 kv heads, hd 16.
  for (auto [rows, heads] : {std::pair<uint64_t, uint64_t>{128, 8}, {32, 2}, {16, 1}, {96, 6}}) {
    for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
      const TensorPtr w = make_tensor("w", dt, {rows, 7}, uint32_t(rows + heads));
      const TensorPtr there = permute_rope_halves_to_pairs(w, heads, "pairs");
      const TensorPtr back = permute_rope_pairs_to_halves(there, heads, "halves");
      EXPECT_EQ(back->read_all(), w->read_all()) << rows << "/" << heads;
      EXPECT_NE(there->read_all(), w->read_all()) << "the permutation must move rows";
      expect_chunked_reads_agree(there, 5);
      // Biases (1-D) use the same rows.
      const TensorPtr b = make_tensor("b", dt, {rows}, 3);
      EXPECT_EQ(permute_rope_pairs_to_halves(permute_rope_halves_to_pairs(b, heads, "x"), heads, "y")->read_all(),
                b->read_all());
    }
  }
}

TEST(LayoutOps, RopePermutationMatchesTheReshapeFormula) {
  // llama.cpp: W.reshape(n, 2, rows/n/2, E).swapaxes(1, 2).reshape(W.shape):
  // output index (h, i, j) reads input index (h, j, i).
  const uint64_t n = 2, hd = 6, rows = n * hd;
  const auto rows_map = rope_halves_to_pairs_rows(rows, n);
  for (uint64_t h = 0; h < n; ++h)
    for (uint64_t i = 0; i < hd / 2; ++i)
      for (uint64_t j = 0; j < 2; ++j) EXPECT_EQ(rows_map[(h * (hd / 2) + i) * 2 + j], (h * 2 + j) * (hd / 2) + i);
}

TEST(LayoutOps, RopeRejectsRowsThatDoNotSplitIntoHeads) {
  const TensorPtr w = make_tensor("w", DType::F32, {12, 4});
  try {
    permute_rope_halves_to_pairs(w, 5, "x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "layout.102");
    EXPECT_EQ(e.where().tensor, "w");
  }
  EXPECT_THROW(permute_rope_halves_to_pairs(w, 4, "x"), Error);  // head dim 3 is odd
}

TEST(LayoutOps, SplitOfConcatIsIdentityAlongEveryDim) {
  for (size_t dim = 0; dim < 3; ++dim) {
    std::vector<uint64_t> a_shape = {3, 4, 5}, b_shape = a_shape, c_shape = a_shape;
    b_shape[dim] = 2;
    c_shape[dim] = 6;
    const TensorPtr a = make_tensor("a", DType::BF16, a_shape, 1), b = make_tensor("b", DType::BF16, b_shape, 2),
                    c = make_tensor("c", DType::BF16, c_shape, 3);
    const TensorPtr cat = concat({a, b, c}, dim, "abc");
    EXPECT_EQ(cat->info().shape[dim], a_shape[dim] + 2 + 6);
    expect_chunked_reads_agree(cat, 7);
    EXPECT_EQ(slice(cat, dim, 0, a_shape[dim], "a2")->read_all(), a->read_all());
    EXPECT_EQ(slice(cat, dim, a_shape[dim], 2, "b2")->read_all(), b->read_all());
    const TensorPtr c2 = slice(cat, dim, a_shape[dim] + 2, 6, "c2");
    EXPECT_EQ(c2->read_all(), c->read_all());
    expect_chunked_reads_agree(c2, 3);
    // concat∘split = id as well.
    EXPECT_EQ(concat({slice(cat, dim, 0, 5, "x"), slice(cat, dim, 5, cat->info().shape[dim] - 5, "y")}, dim, "z")
                  ->read_all(),
              cat->read_all());
  }
}

TEST(LayoutOps, RowSliceOfAFileTensorIsStillInTheFile) {
  test::TempDir dir;
  std::vector<float> v(8 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  const auto path = dir / "t.bin";
  {
    std::ofstream f(path, std::ios::binary);
    f.write("12345678", 8);  // the tensor starts at byte 8
    f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * 4));
  }
  const auto t = std::make_shared<FileTensorSource>(TensorInfo{"t", DType::F32, {8, 3}}, MappedFile::open(path.string()), 8);
  const TensorPtr rows = slice(t, 0, 2, 3, "rows");
  ASSERT_TRUE(rows->file_span());
  EXPECT_EQ(rows->file_span()->offset, 8u + 2 * 3 * 4);
  EXPECT_EQ(floats(rows), std::vector<float>(v.begin() + 6, v.begin() + 15));
  EXPECT_FALSE(slice(t, 1, 1, 2, "cols")->file_span()) << "columns are gathered, not a run of the file";
  EXPECT_FALSE(slice(row_tagged(4, 3), 0, 1, 2, "mem")->file_span()) << "no file under an in-memory tensor";
}

TEST(LayoutOps, ConcatRowsByValue) {
  const auto v = floats(concat({row_tagged(2, 2), row_tagged(1, 2)}, 0, "x"));
  EXPECT_EQ(v, (std::vector<float>{0, 1, 1000, 1001, 0, 1}));
  const auto w = floats(concat({row_tagged(2, 1), row_tagged(2, 2)}, 1, "y"));
  EXPECT_EQ(w, (std::vector<float>{0, 0, 1, 1000, 1000, 1001}));
}

TEST(LayoutOps, ConcatAndSliceRejectBadShapes) {
  EXPECT_THROW(concat({make_tensor("a", DType::F32, {2, 3}), make_tensor("b", DType::F32, {2, 4})}, 0, "x"), Error);
  EXPECT_THROW(concat({make_tensor("a", DType::F32, {2, 3}), make_tensor("b", DType::F16, {2, 3})}, 0, "x"), Error);
  EXPECT_THROW(slice(make_tensor("a", DType::F32, {2, 3}), 0, 1, 2, "x"), Error);
  EXPECT_THROW(slice(make_tensor("a", DType::F32, {2, 3}), 2, 0, 1, "x"), Error);
}

TEST(LayoutOps, TransposeMatchesNaiveAndIsAnInvolution) {
  const TensorPtr t = row_tagged(5, 7);
  const TensorPtr tt = transpose2d(t, "tt");
  ASSERT_EQ(tt->info().shape, (std::vector<uint64_t>{7, 5}));
  const auto v = floats(tt);
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(v[i * 5 + j], float(j * 1000 + i));
  expect_chunked_reads_agree(tt, 3);
  EXPECT_EQ(transpose2d(tt, "t")->read_all(), t->read_all());
}

TEST(LayoutOps, NeoxHeadInterleaveRoundTripsAndGroupsByPart) {
  // 2 heads, hd 2, parts q,k,v: fused rows [q0 q0 k0 k0 v0 v0 q1 q1 k1 k1 v1 v1].
  const TensorPtr fused = row_tagged(12, 1);
  const auto grouped = floats(permute_rows(fused, heads_interleaved_to_grouped_rows(12, 2, 3), "g"));
  EXPECT_EQ(grouped, (std::vector<float>{0, 1000, 6000, 7000, 2000, 3000, 8000, 9000, 4000, 5000, 10000, 11000}));
  const TensorPtr back = permute_rows(permute_rows(fused, heads_interleaved_to_grouped_rows(12, 2, 3), "g"),
                                      heads_grouped_to_interleaved_rows(12, 2, 3), "b");
  EXPECT_EQ(back->read_all(), fused->read_all());
}

}  // namespace
}  // namespace supra
