// Random chains of TensorSource ops (cast, RoPE permutation both ways,
// permute_rows, slice, concat, transpose2d, rename, Q8_0 quantize and
// dequantize) over random shapes and dtypes, read whole, in random chunk
// sizes and from several threads at once, must equal the same chain applied
// to materialized arrays by the plain loops of reference_tensor_ops.hpp.
//
// EVERY NEW TensorSource OP JOINS THIS TEST: add it to `apply_random_op`
// with its reference in reference_tensor_ops.hpp. Sources nest (a cast reads
// a permutation that reads a cast), and a source that shares scratch memory
// with another corrupts data only in such chains (issue 7: one thread_local
// buffer for every cast turned bf16 -> f16 -> q8_0 GGUF files into garbage).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/quantize.hpp"
#include "schema/relayout/layout_ops.hpp"
#include "schema/mapped_file.hpp"
#include "schema/strided_tensor_source.hpp"
#include "tests/converters/reference_tensor_ops.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using reference::Array;
using Rng = std::mt19937_64;

constexpr uint64_t kMaxElements = 8192;  // keeps several hundred chains well under a second each
constexpr DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};

// A source and what it must read as.
struct Node {
  TensorPtr source;
  Array expected;
  std::string chain;                             // the ops so far, for failure messages
  std::optional<std::vector<uint64_t>> q8_shape;  // set right after a quantize
};

uint64_t pick(Rng& rng, uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); }
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }

std::string shape_text(const std::vector<uint64_t>& shape) { return TensorInfo{"", DType::U8, shape}.shape_string(); }

// Finite weights over several orders of magnitude (f16 subnormals included),
// with zeros and negative zeros, small enough that no cast overflows.
Array random_array(Rng& rng, DType dtype, std::vector<uint64_t> shape) {
  Array a{dtype, std::move(shape), {}};
  a.bytes.resize(a.numel() * a.esz());
  if (!dtype_is_float(dtype)) {
    for (auto& b : a.bytes) b = std::byte(rng());
    return a;
  }
  std::normal_distribution<float> normal;
  const float scale = std::pow(10.0f, float(pick(rng, 0, 6)) - 4.0f);
  for (uint64_t i = 0; i < a.numel(); ++i) {
    const uint64_t kind = pick(rng, 0, 99);
    const float v = kind < 3 ? 0.0f : kind < 5 ? -0.0f : normal(rng) * scale;
    reference::put_float(a, i, v);
  }
  return a;
}

std::vector<uint64_t> random_shape(Rng& rng) {
  const size_t rank = chance(rng, 0.5) ? 2 : chance(rng, 0.5) ? 1 : 3;
  std::vector<uint64_t> shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(pick(rng, 1, rank == 1 ? 64 : rank == 2 ? 24 : 8));
  if (rank >= 2 && chance(rng, 0.6)) shape[1] = 32 * pick(rng, 1, 3);      // quantizable rows
  if (chance(rng, 0.5)) shape[0] = 2 * pick(rng, 1, 4) * pick(rng, 1, 4);  // RoPE-able heads
  return shape;
}

// Storage in Fortran order (first index fastest) after a few unused
// elements: a StridedTensorSource must gather it back into row-major order.
TensorPtr strided_leaf(const Array& a, const std::string& name) {
  const size_t rank = a.shape.size(), e = a.esz();
  const uint64_t pad = 3;
  std::vector<uint64_t> strides(rank, 1);
  for (size_t d = 1; d < rank; ++d) strides[d] = strides[d - 1] * a.shape[d - 1];
  auto storage = std::make_shared<std::vector<std::byte>>((pad + a.numel()) * e, std::byte{0x5a});
  std::vector<uint64_t> index(rank, 0);
  for (uint64_t i = 0; i < a.numel(); ++i) {
    uint64_t rest = i, pos = pad;
    for (size_t d = rank; d-- > 0;) {
      pos += (rest % a.shape[d]) * strides[d];
      rest /= a.shape[d];
    }
    std::memcpy(storage->data() + pos * e, a.bytes.data() + i * e, e);
  }
  return std::make_shared<StridedTensorSource>(TensorInfo{name, a.dtype, a.shape}, storage, std::span(*storage), pad,
                                               strides);
}

// A fresh tensor held in memory, in a file, or as a strided view.
Node random_leaf(Rng& rng, const test::TempDir& dir, DType dtype, std::vector<uint64_t> shape) {
  Node n{nullptr, random_array(rng, dtype, std::move(shape)), {}, {}};
  const uint64_t kind = pick(rng, 0, 2);
  n.chain = std::string(kind == 0 ? "memory " : kind == 1 ? "file " : "strided ") + std::string(dtype_name(dtype)) +
            " " + shape_text(n.expected.shape);
  const TensorInfo info{"t", dtype, n.expected.shape};
  if (kind == 0) {
    n.source = std::make_shared<MemoryTensorSource>(info, n.expected.bytes);
  } else if (kind == 1) {
    static int counter = 0;
    const std::filesystem::path path = dir / ("leaf" + std::to_string(counter++));
    test::write_file_bytes(path, n.expected.bytes);
    n.source = std::make_shared<FileTensorSource>(info, MappedFile::open(path.string()), 0);
  } else {
    n.source = strided_leaf(n.expected, "t");
  }
  return n;
}

DType random_dtype(Rng& rng) {
  const uint64_t k = pick(rng, 0, 11);
  if (k < 9) return kFloatTypes[k % 3];
  return k == 9 ? DType::I32 : k == 10 ? DType::U8 : DType::I64;
}

// The partner of a concat: the same dtype and shape except along `dim`,
// sometimes itself a cast, so reads nest casts on both sides.
Node concat_partner(Rng& rng, const test::TempDir& dir, const Node& x, size_t dim) {
  std::vector<uint64_t> shape = x.expected.shape;
  shape[dim] = pick(rng, 1, 6);
  const DType dtype = x.expected.dtype;
  if (!dtype_is_float(dtype) || chance(rng, 0.5)) return random_leaf(rng, dir, dtype, shape);
  Node leaf = random_leaf(rng, dir, kFloatTypes[pick(rng, 0, 2)], shape);
  return {cast_if_float(leaf.source, dtype), reference::cast(leaf.expected, dtype), "cast of " + leaf.chain, {}};
}

// Applies one op that fits `x`; false if the drawn op does not fit.
bool apply_random_op(Rng& rng, const test::TempDir& dir, Node& x) {
  const Array& a = x.expected;
  const size_t rank = a.shape.size();
  const bool is_float = dtype_is_float(a.dtype);
  const std::string name = "t";
  switch (pick(rng, 0, 8)) {
    case 0: {  // cast
      if (!is_float) return false;
      DType to;
      do to = kFloatTypes[pick(rng, 0, 2)];
      while (to == a.dtype);
      x = {cast_if_float(x.source, to), reference::cast(a, to), x.chain + " | cast " + std::string(dtype_name(to)), {}};
      return true;
    }
    case 1: case 2: {  // RoPE row orders, both directions
      std::vector<uint64_t> heads;
      for (uint64_t h = 1; h <= a.shape[0]; ++h)
        if (a.shape[0] % h == 0 && (a.shape[0] / h) % 2 == 0) heads.push_back(h);
      if (heads.empty()) return false;
      const uint64_t h = heads[pick(rng, 0, heads.size() - 1)];
      const bool to_pairs = chance(rng, 0.5);
      x = {to_pairs ? permute_rope_halves_to_pairs(x.source, h, name) : permute_rope_pairs_to_halves(x.source, h, name),
           to_pairs ? reference::rope_halves_to_pairs(a, h) : reference::rope_pairs_to_halves(a, h),
           x.chain + (to_pairs ? " | rope halves->pairs " : " | rope pairs->halves ") + std::to_string(h), {}};
      return true;
    }
    case 3: {  // any row permutation
      std::vector<uint64_t> rows(a.shape[0]);
      for (uint64_t r = 0; r < rows.size(); ++r) rows[r] = r;
      std::shuffle(rows.begin(), rows.end(), rng);
      x = {permute_rows(x.source, rows, name), reference::take_rows(a, rows), x.chain + " | permute_rows", {}};
      return true;
    }
    case 4: {  // slice
      const size_t dim = size_t(pick(rng, 0, rank - 1));
      const uint64_t start = pick(rng, 0, a.shape[dim] - 1), length = pick(rng, 1, a.shape[dim] - start);
      x = {slice(x.source, dim, start, length, name), reference::slice(a, dim, start, length),
           x.chain + " | slice dim " + std::to_string(dim) + " [" + std::to_string(start) + ", +" +
               std::to_string(length) + ")", {}};
      return true;
    }
    case 5: {  // concat with a partner, or with itself
      const size_t dim = size_t(pick(rng, 0, rank - 1));
      const Node other = chance(rng, 0.3) ? x : concat_partner(rng, dir, x, dim);
      const uint64_t order = pick(rng, 0, 2);
      std::vector<TensorPtr> sources{x.source, other.source};
      std::vector<Array> arrays{a, other.expected};
      if (order == 1) {
        std::swap(sources[0], sources[1]);
        std::swap(arrays[0], arrays[1]);
      } else if (order == 2) {
        sources.push_back(x.source);
        arrays.push_back(a);
      }
      Array joined = reference::concat(arrays, dim);
      if (joined.numel() > kMaxElements) return false;
      x = {concat(sources, dim, name), std::move(joined),
           x.chain + " | concat dim " + std::to_string(dim) + " with (" + other.chain + ")", {}};
      return true;
    }
    case 6: {
      if (rank != 2) return false;
      x = {transpose2d(x.source, name), reference::transpose2d(a), x.chain + " | transpose2d", {}};
      return true;
    }
    case 7: {  // quantize, then often dequantize right away
      if (!is_float || rank != 2 || a.shape[1] % 32 != 0) return false;
      x = {std::make_shared<Q8_0TensorSource>(x.source), reference::quantize_q8_0(a), x.chain + " | q8_0", a.shape};
      if (chance(rng, 0.3)) return true;
      [[fallthrough]];
    }
    case 8: {  // dequantize what a quantize just made
      if (!x.q8_shape) return false;
      const std::vector<uint64_t> shape = *x.q8_shape;
      x = {std::make_shared<DequantizedTensorSource>(name, shape, ggml::Q8_0, x.source),
           reference::dequantize_q8_0(x.expected, shape), x.chain + " | dequantize", {}};
      return true;
    }
  }
  return false;
}

Node random_chain(Rng& rng, const test::TempDir& dir) {
  Node x = random_leaf(rng, dir, random_dtype(rng), random_shape(rng));
  const uint64_t ops = pick(rng, 1, 7);
  for (uint64_t done = 0, tries = 0; done < ops && tries < 50; ++tries)
    if (apply_random_op(rng, dir, x)) ++done;
  if (chance(rng, 0.2)) x.source = renamed(x.source, "renamed");
  return x;
}

// Reads bytes [begin, end) of `t` into `out` in random whole-element chunks,
// mostly small ones for one pass, mostly large ones for another.
void read_in_random_chunks(const TensorSource& t, uint64_t begin, uint64_t end, std::span<std::byte> out,
                           uint64_t seed) {
  Rng rng(seed);
  const uint64_t e = dtype_size(t.info().dtype), elements = (end - begin) / e;
  const uint64_t most = std::max<uint64_t>(1, chance(rng, 0.5) ? 5 : elements);
  CastStats stats;
  for (uint64_t at = begin; at < end;) {
    const uint64_t n = std::min(pick(rng, 1, most) * e, end - at);
    t.read(at, out.subspan(at, n), chance(rng, 0.5) ? &stats : nullptr);
    at += n;
  }
}

// Disjoint ranges read at once by `threads` threads, each in random chunks.
std::vector<std::byte> read_on_threads(const TensorSource& t, int threads, uint64_t seed) {
  const uint64_t e = dtype_size(t.info().dtype), total = t.info().nbytes();
  std::vector<std::byte> out(total, std::byte{0xee});
  std::vector<uint64_t> cuts{0, total};
  Rng rng(seed);
  for (int i = 1; i < threads; ++i) cuts.push_back(pick(rng, 0, total / e) * e);
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::thread> pool;
  std::vector<std::string> errors(cuts.size());
  for (size_t i = 0; i + 1 < cuts.size(); ++i)
    pool.emplace_back([&, i] {
      try {
        read_in_random_chunks(t, cuts[i], cuts[i + 1], out, seed + 1 + i);
      } catch (const std::exception& ex) {
        errors[i] = ex.what();
      }
    });
  for (auto& th : pool) th.join();
  for (const auto& err : errors) EXPECT_EQ(err, "");
  return out;
}

TEST(TensorOpChainProperty, RandomChainsReadAsTheReference) {
  test::TempDir dir;
  Rng rng(20240607);
  int quantized = 0, nested_casts = 0;
  for (int chain = 0; chain < 600; ++chain) {
    const Node x = random_chain(rng, dir);
    SCOPED_TRACE("chain " + std::to_string(chain) + ": " + x.chain);
    ASSERT_EQ(x.source->info().dtype, x.expected.dtype);
    ASSERT_EQ(x.source->info().shape, x.expected.shape);
    const auto& want = x.expected.bytes;
    CastStats stats;
    ASSERT_EQ(x.source->read_all(&stats), want) << "read whole";
    std::vector<std::byte> pieced(want.size());
    read_in_random_chunks(*x.source, 0, want.size(), pieced, rng());
    ASSERT_EQ(pieced, want) << "read in chunks";
    ASSERT_EQ(read_on_threads(*x.source, 4, rng()), want) << "read on 4 threads";
    quantized += x.chain.find("q8_0") != std::string::npos;
    nested_casts += x.chain.find("cast") != x.chain.rfind("cast");  // two casts or more
  }
  // The draw covers what the test is for.
  EXPECT_GT(quantized, 20);
  EXPECT_GT(nested_casts, 50);
}

// Issue 7's first sighting: the outer cast's input was the inner cast's scratch.
TEST(TensorOpChainProperty, CastOfACastIsOneRoundingAfterAnother) {
  Rng rng(7);
  const Array a = random_array(rng, DType::F32, {3, 1000});
  const TensorPtr m = std::make_shared<MemoryTensorSource>(TensorInfo{"m", DType::F32, a.shape}, a.bytes);
  const TensorPtr twice = cast_if_float(cast_if_float(m, DType::BF16), DType::F32);
  EXPECT_EQ(twice->read_all(), reference::cast(reference::cast(a, DType::BF16), DType::F32).bytes);
  const TensorPtr thrice = cast_if_float(cast_if_float(cast_if_float(m, DType::F16), DType::BF16), DType::F32);
  EXPECT_EQ(thrice->read_all(),
            reference::cast(reference::cast(reference::cast(a, DType::F16), DType::BF16), DType::F32).bytes);
}

// Reads larger than one cast piece (256 Ki elements) and than a Q8_0 batch,
// through the chain the GGUF writer builds: cast -> RoPE -> cast -> quantize.
TEST(TensorOpChainProperty, LargeReadsCrossPieceBoundaries) {
  Rng rng(11);
  const Array a = random_array(rng, DType::BF16, {1024, 320});
  const TensorPtr m = std::make_shared<MemoryTensorSource>(TensorInfo{"m", DType::BF16, a.shape}, a.bytes);
  const TensorPtr f16 = permute_rope_halves_to_pairs(cast_if_float(m, DType::F16), 8, "q");
  const TensorPtr q = std::make_shared<Q8_0TensorSource>(f16);
  const Array f16_ref = reference::rope_halves_to_pairs(reference::cast(a, DType::F16), 8);
  EXPECT_EQ(q->read_all(), reference::quantize_q8_0(f16_ref).bytes);
  EXPECT_EQ(cast_if_float(f16, DType::F32)->read_all(), reference::cast(f16_ref, DType::F32).bytes);
}

// TensorSource::read checks every range once, for every kind of source.
TEST(TensorOpChainProperty, ReadsOutsideOrBetweenElementsAreRefusedByName) {
  Rng rng(3);
  const Array a = random_array(rng, DType::F16, {4, 32});
  const TensorPtr m = std::make_shared<MemoryTensorSource>(TensorInfo{"w", DType::F16, a.shape}, a.bytes);
  const std::vector<TensorPtr> sources = {
      m, cast_if_float(m, DType::F32), permute_rows(m, {3, 2, 1, 0}, "w"), slice(m, 1, 1, 3, "w"),
      concat({m, m}, 0, "w"), transpose2d(m, "w"), std::make_shared<Q8_0TensorSource>(m), strided_leaf(a, "w")};
  for (const TensorPtr& t : sources) {
    const uint64_t total = t->info().nbytes(), e = dtype_size(t->info().dtype);
    SCOPED_TRACE(std::string(dtype_name(t->info().dtype)) + " " + t->info().shape_string());
    std::vector<std::byte> buf(total + 2 * e);
    try {
      t->read(total - e, std::span(buf).first(2 * e));
      ADD_FAILURE() << "read past the end was accepted";
    } catch (const std::out_of_range& ex) {
      const std::string what = ex.what();
      EXPECT_NE(what.find("'w'"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(total - e)), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(2 * e)), std::string::npos) << what;
    }
    EXPECT_THROW(t->read(total + e, std::span(buf).first(0)), std::out_of_range);
    EXPECT_NO_THROW(t->read(total, std::span(buf).first(0)));
    if (e > 1) {
      EXPECT_THROW(t->read(1, std::span(buf).first(e)), std::out_of_range);
      EXPECT_THROW(t->read(0, std::span(buf).first(e + 1)), std::out_of_range);
    }
  }
}

}  // namespace
}  // namespace supra
