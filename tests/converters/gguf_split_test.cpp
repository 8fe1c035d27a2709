// Split GGUF helpers: where files start, names, keys (the files themselves
// are checked against gguf-py and llama.cpp in tests/interop/test_gguf_split.py).
#include "converters/gguf/gguf_split.hpp"

#include <gtest/gtest.h>

namespace supra {
namespace {

TEST(GgufSplit, CutsInOrderAndGivesAnOversizedTensorItsOwnFile) {
  EXPECT_EQ(gguf_split_starts({10, 10, 10, 10}, 0), (std::vector<size_t>{0}));
  EXPECT_EQ(gguf_split_starts({10, 10, 10, 10}, 20), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(gguf_split_starts({10, 10, 10, 10}, 25), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(gguf_split_starts({50, 10, 60, 10}, 20), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(gguf_split_starts({}, 20), (std::vector<size_t>{0}));
}

TEST(GgufSplit, NamesLikeGgufSplit) {
  EXPECT_EQ(gguf_split_name("/d/model.gguf", 0, 3), std::filesystem::path("/d/model-00001-of-00003.gguf"));
  EXPECT_EQ(gguf_split_name("m.gguf", 11, 12), std::filesystem::path("m-00012-of-00012.gguf"));
}

TEST(GgufSplit, KeysAreU16U16I32) {
  std::vector<GgufKV> kvs{{"general.architecture", GgufValue::string("llama")}};
  add_gguf_split_kvs(kvs, 1, 3, 291);
  ASSERT_EQ(kvs.size(), 4u);
  EXPECT_EQ(find_gguf_kv(kvs, "split.no")->value.type, GgufValueType::U16);
  EXPECT_EQ(find_gguf_kv(kvs, "split.count")->value.u, 3u);
  EXPECT_EQ(find_gguf_kv(kvs, "split.tensors.count")->value.type, GgufValueType::I32);
  EXPECT_EQ(find_gguf_kv(kvs, "split.tensors.count")->value.i, 291);
  erase_gguf_split_kvs(kvs);
  EXPECT_EQ(kvs.size(), 1u);
}

}  // namespace
}  // namespace supra
