#include "converters/gguf/gguf_split.hpp"

#include <fmt/format.h>

#include <regex>
#include <set>

#include "schema/error.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSplitNo = "split.no", kSplitCount = "split.count", kSplitTensors = "split.tensors.count";

uint64_t split_integer(const GgufFile& g, std::string_view key) {
  const GgufKV* kv = g.find(key);
  if (!kv) throw bad_input("gguf.131", {g.file->path(), {}, {}}, fmt::format("split GGUF without '{}'", key));
  const GgufValue& v = kv->value;
  const bool unsigned_int = v.type == GgufValueType::U8 || v.type == GgufValueType::U16 ||
                            v.type == GgufValueType::U32 || v.type == GgufValueType::U64;
  const bool signed_int = v.type == GgufValueType::I8 || v.type == GgufValueType::I16 ||
                          v.type == GgufValueType::I32 || v.type == GgufValueType::I64;
  if (unsigned_int) return v.u;
  if (signed_int && v.i >= 0) return uint64_t(v.i);
  throw bad_input("gguf.131", {g.file->path(), {}, {}},
                  fmt::format("'{}' is {} {}, not a count", key, gguf_value_type_name(v.type), gguf_value_summary(v)));
}

// The member paths, from the name of one of them ("x-00002-of-00003.gguf").
std::vector<fs::path> member_paths(const GgufFile& g, const GgufSplitKeys& keys) {
  const fs::path path = g.file->path();
  static const std::regex kName(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)");
  std::smatch m;
  const std::string name = path.filename().string();
  if (!std::regex_match(name, m, kName) || std::stoull(m[2]) != keys.no + 1 || std::stoull(m[3]) != keys.count)
    throw bad_input("gguf.131", {path.string(), {}, {}},
                    fmt::format("part {} of a {}-file split GGUF, but the name is not '<name>-{:05}-of-{:05}.gguf' "
                                "(llama.cpp's gguf-split naming), so the other parts cannot be found",
                                keys.no + 1, keys.count, keys.no + 1, keys.count));
  std::vector<fs::path> paths;
  for (uint64_t i = 0; i < keys.count; ++i)
    paths.push_back(path.parent_path() / fmt::format("{}-{:05}-of-{:05}.gguf", m[1].str(), i + 1, keys.count));
  return paths;
}

}  // namespace

std::optional<GgufSplitKeys> gguf_split_keys(const GgufFile& g) {
  if (!g.find(kSplitCount)) return std::nullopt;
  GgufSplitKeys k{split_integer(g, kSplitNo), split_integer(g, kSplitCount), split_integer(g, kSplitTensors)};
  if (k.count == 0 || k.no >= k.count)
    throw bad_input("gguf.131", {g.file->path(), {}, {}},
                    fmt::format("split.no {} is not below split.count {}", k.no, k.count));
  return k;
}

void add_gguf_split_kvs(std::vector<GgufKV>& kvs, uint64_t no, uint64_t count, uint64_t tensors) {
  set_gguf_kv(kvs, std::string(kSplitNo), GgufValue::uint(GgufValueType::U16, no));
  set_gguf_kv(kvs, std::string(kSplitCount), GgufValue::uint(GgufValueType::U16, count));
  set_gguf_kv(kvs, std::string(kSplitTensors), GgufValue::sint(GgufValueType::I32, int64_t(tensors)));
}

void erase_gguf_split_kvs(std::vector<GgufKV>& kvs) {
  for (std::string_view key : {kSplitNo, kSplitCount, kSplitTensors}) erase_gguf_kv(kvs, key);
}

fs::path gguf_split_name(const fs::path& out, uint64_t no, uint64_t count) {
  return out.parent_path() / fmt::format("{}-{:05}-of-{:05}.gguf", out.stem().string(), no + 1, count);
}

std::vector<size_t> gguf_split_starts(const std::vector<uint64_t>& sizes, uint64_t max_bytes) {
  std::vector<size_t> starts{0};
  uint64_t in_file = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (max_bytes != 0 && in_file != 0 && in_file + sizes[i] > max_bytes) {
      starts.push_back(i);
      in_file = 0;
    }
    in_file += sizes[i];
  }
  return starts;
}

Checkpoint read_gguf_split(const GgufFile& member, const GgufSplitKeys& keys) {
  const std::vector<fs::path> paths = member_paths(member, keys);
  std::vector<GgufFile> parts;
  for (uint64_t i = 0; i < keys.count; ++i) {
    if (i == keys.no) {
      parts.push_back(member);
      continue;
    }
    std::error_code ec;
    if (!fs::is_regular_file(paths[i], ec))
      throw bad_input("gguf.130", {member.file->path(), {}, {}},
                      fmt::format("part {} of this {}-file split GGUF is missing: expected {}", i + 1, keys.count,
                                  paths[i].string()));
    parts.push_back(parse_gguf(paths[i]));
    const std::optional<GgufSplitKeys> k = gguf_split_keys(parts.back());
    if (!k || k->no != i || k->count != keys.count || k->tensors != keys.tensors)
      throw bad_input("gguf.131", {paths[i].string(), {}, {}},
                      fmt::format("split keys do not match part {} of {} with {} tensors", i + 1, keys.count,
                                  keys.tensors));
  }
  GgufFile first = parts[0];
  erase_gguf_split_kvs(first.kvs);
  Checkpoint ckpt = checkpoint_from_gguf(first);
  std::set<std::string> names;
  for (const TensorPtr& t : ckpt.tensors) names.insert(t->name());
  for (size_t i = 1; i < parts.size(); ++i) {
    GgufFile tensors_only = parts[i];
    tensors_only.kvs.clear();
    for (TensorPtr& t : checkpoint_from_gguf(tensors_only).tensors) {
      if (!names.insert(t->name()).second)
        throw bad_input("gguf.117", {parts[i].file->path(), t->name(), {}}, "duplicate tensor name across split parts");
      ckpt.tensors.push_back(std::move(t));
    }
    ckpt.files.push_back(parts[i].file->path());
  }
  if (ckpt.tensors.size() != keys.tensors)
    throw bad_input("gguf.131", {member.file->path(), {}, {}},
                    fmt::format("split.tensors.count is {} but the {} parts hold {} tensors", keys.tensors,
                                keys.count, ckpt.tensors.size()));
  return ckpt;
}

}  // namespace supra
