#include "converters/pytorch/pytorch_reader.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "converters/json_strict.hpp"
#include "converters/pytorch/restricted_unpickler.hpp"
#include "converters/pytorch/state_dict_finder.hpp"
#include "converters/zip/zip_reader.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "schema/strided_tensor_source.hpp"

namespace supra {
namespace fs = std::filesystem;
using namespace pytorch;

namespace {

constexpr uint64_t kMaxPickleBytes = 1ull << 30;
// torch/serialization.py MAGIC_NUMBER 0x1950a86a20f9469cfc6c, pickled by
// protocols 2-5 as LONG1 10 bytes little-endian (after PROTO n, and from
// protocol 4 on a FRAME), by protocols 0-1 as decimal text LONG.
constexpr unsigned char kLegacyMagicLong1[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                               0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::string_view kLegacyMagicText = "L119547037146038801333356L\n";

// Where one storage's bytes are: in the file, or inflated in memory.
struct StorageBytes {
  std::shared_ptr<const MappedFile> file;
  uint64_t offset = 0;
  std::shared_ptr<const std::vector<std::byte>> memory;
  uint64_t size = 0;
};

bool is_contiguous(const std::vector<uint64_t>& size, const std::vector<uint64_t>& stride) {
  uint64_t expected = 1;
  for (size_t i = size.size(); i-- > 0;) {
    if (size[i] != 1 && stride[i] != expected) return false;
    expected *= size[i];
  }
  return true;
}

TensorPtr make_tensor(const std::string& file, const std::string& name, const TensorRef& t,
                      const StorageRef& s, const StorageBytes& bytes) {
  TensorInfo info{name, t.dtype, t.size};
  const uint64_t numel = info.numel();
  (void)info.nbytes();  // throws on overflow
  const uint64_t elem = dtype_size(t.dtype);
  if (numel == 0) return std::make_shared<MemoryTensorSource>(std::move(info), std::vector<std::byte>{});
  const auto extent = strided_extent(t.size, t.offset, t.stride);
  uint64_t end_bytes = 0;
  if (!extent || __builtin_mul_overflow(*extent, elem, &end_bytes) || end_bytes > bytes.size)
    throw bad_input("pytorch.106", {file, name, {}},
                    "view (offset " + std::to_string(t.offset) + ", size " + info.shape_string() +
                        ") reaches past the end of storage '" + s.key + "' (" + std::to_string(bytes.size) + " bytes)");
  if (bytes.file && is_contiguous(t.size, t.stride))
    return std::make_shared<FileTensorSource>(std::move(info), bytes.file, bytes.offset + t.offset * elem);
  std::span<const std::byte> storage;
  std::shared_ptr<const void> owner;
  if (bytes.file) {
    storage = bytes.file->bytes().subspan(bytes.offset, bytes.size);
    owner = bytes.file;
  } else {
    storage = *bytes.memory;
    owner = bytes.memory;
  }
  return std::make_shared<StridedTensorSource>(std::move(info), owner, storage, t.offset, t.stride);
}

// Turns the unpickled object into named tensor sources. `locate` gives the
// bytes of a storage (and checks them).
template <typename Locate>
Checkpoint build_checkpoint(const PickleResult& pickle, const std::string& file, const ReadOptions& options,
                            Locate locate) {
  FoundTensors found = find_state_dict(pickle, options.key, file);
  std::vector<std::string> names;
  for (const auto& nt : found.tensors) names.push_back(nt.name);
  if (options.strip_module_prefix) strip_common_module_prefix(names);

  Checkpoint ckpt;
  ckpt.format = "pytorch";
  ckpt.files.push_back(file);
  std::map<uint32_t, StorageBytes> located;
  for (size_t i = 0; i < found.tensors.size(); ++i) {
    const TensorRef& t = pickle.tensors[found.tensors[i].tensor];
    const StorageRef& s = pickle.storages[t.storage];
    auto it = located.find(t.storage);
    if (it == located.end()) it = located.emplace(t.storage, locate(s)).first;
    ckpt.tensors.push_back(make_tensor(file, names[i], t, s, it->second));
  }
  if (!found.key.empty()) ckpt.metadata["pytorch.key"] = found.key;
  if (!found.skipped.empty()) {
    std::string list;
    for (size_t i = 0; i < found.skipped.size() && i < 50; ++i) list += (i ? ", " : "") + found.skipped[i];
    if (found.skipped.size() > 50) list += ", ... (" + std::to_string(found.skipped.size()) + " in all)";
    ckpt.metadata["pytorch.skipped"] = list;
  }
  return ckpt;
}

uint64_t storage_nbytes(const std::string& file, const StorageRef& s) {
  uint64_t n;
  if (__builtin_mul_overflow(s.numel, uint64_t(s.untyped ? 1 : dtype_size(s.dtype)), &n))
    throw bad_input("pytorch.105", {file, {}, {}}, "storage '" + s.key + "' size overflows 64 bits");
  return n;
}

Checkpoint read_zip(std::shared_ptr<const MappedFile> mapped, const ReadOptions& options) {
  const std::string file = mapped->path();
  zip::ZipArchive archive(mapped);
  if (archive.entries().empty())
    throw bad_input("pytorch.101", {file, {}, {}}, "empty zip archive, not a torch.save checkpoint");
  // The archive folder is the text before the first '/' of the first entry.
  const std::string& first = archive.entries().front().name;
  const size_t slash = first.find('/');
  const std::string prefix = slash == std::string::npos ? "" : first.substr(0, slash + 1);
  const zip::ZipEntry* pkl = archive.find(prefix + "data.pkl");
  if (!pkl || prefix.empty())
    throw bad_input("pytorch.101", {file, {}, {}}, "zip archive has no <archive>/data.pkl: not a torch.save checkpoint");
  for (const auto& e : archive.entries())
    if (!e.name.starts_with(prefix))
      throw bad_input("pytorch.102", {file, e.name, e.local_header_offset},
                      "member lies outside the archive folder '" + prefix + "'");
  if (const zip::ZipEntry* bo = archive.find(prefix + "byteorder")) {
    const auto text = archive.read(*bo, 64);
    const std::string order(reinterpret_cast<const char*>(text.data()), text.size());
    if (order != "little")
      throw bad_input("pytorch.103", {file, {}, bo->data_offset},
                      "byteorder is '" + order + "'; only little-endian checkpoints are supported");
  }
  const std::vector<std::byte> pickle_bytes = archive.read(*pkl, kMaxPickleBytes);
  const PickleResult pickle = unpickle(pickle_bytes, 0, file, prefix + "data.pkl");

  auto locate = [&](const StorageRef& s) {
    const zip::ZipEntry* e = archive.find(prefix + "data/" + s.key);
    if (!e)
      throw bad_input("pytorch.104", {file, {}, {}},
                      "storage '" + s.key + "' has no member " + prefix + "data/" + s.key);
    const uint64_t want = storage_nbytes(file, s);
    if (e->size != want)
      throw bad_input("pytorch.105", {file, e->name, e->data_offset},
                      "storage member has " + std::to_string(e->size) + " bytes, its pickle says " +
                          std::to_string(want));
    StorageBytes b;
    b.size = want;
    if (e->method == zip::kStored) {
      archive.verify_crc(*e);
      b.file = mapped;
      b.offset = e->data_offset;
    } else {
      b.memory = std::make_shared<const std::vector<std::byte>>(archive.read(*e, UINT64_MAX));
    }
    return b;
  };
  return build_checkpoint(pickle, file, options, locate);
}

// Pre-1.6: magic, protocol version, sys_info, the object, the sorted storage
// keys, then per key an int64 element count and the raw bytes.
Checkpoint read_legacy(std::shared_ptr<const MappedFile> mapped, const ReadOptions& options) {
  const std::string file = mapped->path();
  const auto bytes = mapped->bytes();
  auto expect = [&](bool ok, uint64_t at, const std::string& what) {
    if (!ok) throw bad_input("pytorch.107", {file, {}, at}, "legacy torch.save stream: " + what);
  };
  PickleResult magic = unpickle(bytes, 0, file, "legacy magic");
  const PyObject& m = magic.objects[magic.root];
  const std::string_view magic_le(reinterpret_cast<const char*>(kLegacyMagicLong1) + 2, sizeof(kLegacyMagicLong1) - 2);
  expect(m.kind == PyKind::BigInt && m.text == magic_le, 0, "bad magic number");
  PickleResult version = unpickle(bytes, magic.end, file, "legacy protocol version");
  const PyObject& v = version.objects[version.root];
  expect(v.kind == PyKind::Int && v.int_value == 1001, magic.end, "protocol version is not 1001");
  PickleResult sys_info = unpickle(bytes, version.end, file, "legacy sys_info");
  {
    const PyObject& d = sys_info.objects[sys_info.root];
    expect(d.kind == PyKind::Dict, version.end, "sys_info is not a dict");
    for (size_t i = 0; i + 1 < d.items.size(); i += 2) {
      const PyObject& k = sys_info.objects[d.items[i]];
      const PyObject& val = sys_info.objects[d.items[i + 1]];
      if (k.kind == PyKind::Str && k.text == "little_endian")
        expect(val.kind == PyKind::Bool && val.int_value == 1, version.end, "big-endian checkpoints are not supported");
    }
  }
  PickleResult pickle = unpickle(bytes, sys_info.end, file, "legacy object pickle");
  PickleResult keys = unpickle(bytes, pickle.end, file, "legacy storage keys");
  const PyObject& list = keys.objects[keys.root];
  expect(list.kind == PyKind::List, pickle.end, "storage key list is not a list");
  std::map<std::string, StorageBytes> where;
  std::map<std::string, const StorageRef*> by_key;
  for (const auto& s : pickle.storages) by_key[s.key] = &s;
  uint64_t pos = keys.end;
  for (PyRef k : list.items) {
    const PyObject& key = keys.objects[k];
    expect(key.kind == PyKind::Str, pos, "storage key is not a string");
    auto it = by_key.find(key.text);
    expect(it != by_key.end(), pos, "storage '" + key.text + "' is listed but never used");
    expect(bytes.size() - pos >= 8, pos, "file ends before storage '" + key.text + "' (truncated)");
    uint64_t numel;
    std::memcpy(&numel, bytes.data() + pos, 8);
    expect(numel == it->second->numel, pos, "storage '" + key.text + "' element count disagrees with its pickle");
    const uint64_t n = storage_nbytes(file, *it->second);
    expect(bytes.size() - pos - 8 >= n, pos, "file ends inside storage '" + key.text + "' (truncated)");
    where[key.text] = StorageBytes{mapped, pos + 8, nullptr, n};
    pos += 8 + n;
  }
  auto locate = [&](const StorageRef& s) {
    auto it = where.find(s.key);
    if (it == where.end())
      throw bad_input("pytorch.104", {file, {}, {}}, "storage '" + s.key + "' is not in the legacy file");
    return it->second;
  };
  return build_checkpoint(pickle, file, options, locate);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw io_error("io.open", {p.string(), {}, {}}, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool is_legacy_torch_pickle(std::span<const std::byte> head) {
  auto starts_with = [&](size_t at, const void* what, size_t n) {
    return head.size() >= at + n && std::memcmp(head.data() + at, what, n) == 0;
  };
  if (starts_with(0, kLegacyMagicText.data(), kLegacyMagicText.size())) return true;
  if (head.size() < 2 || head[0] != std::byte{0x80} || uint8_t(head[1]) < 2 || uint8_t(head[1]) > 5) return false;
  const size_t at = head.size() > 2 && head[2] == std::byte{0x95} ? 2 + 9 : 2;  // FRAME and its 8-byte length
  return starts_with(at, kLegacyMagicLong1, sizeof(kLegacyMagicLong1));
}

bool looks_like_torch_zip(std::span<const std::byte> head) {
  // torch.save writes <archive>/data.pkl as the first member.
  if (head.size() < 30 || !zip::looks_like_zip(head)) return false;
  const size_t n = size_t(head[26]) | size_t(head[27]) << 8;
  if (head.size() < 30 + n) return false;
  const std::string name(reinterpret_cast<const char*>(head.data() + 30), n);
  return name.ends_with("/data.pkl") || name == "data.pkl";
}

Checkpoint read_pytorch_file(const fs::path& path, const ReadOptions& options) {
  auto mapped = MappedFile::open(path.string());
  std::byte head_bytes[32] = {};
  const std::span<std::byte> head(head_bytes, std::min<uint64_t>(mapped->size(), sizeof(head_bytes)));
  mapped->read_at(0, head);
  if (std::memcmp(head_bytes, "PYTORCH1", 8) == 0)
    throw bad_input("pytorch.108", {path.string(), {}, 0}, "PYTORCH1 pre-release format is not supported");
  if (is_legacy_torch_pickle(head)) return read_legacy(mapped, options);
  if (!zip::looks_like_zip(head) && mapped->size() >= 2 && head[0] == std::byte{0x80})
    throw bad_input("pytorch.109", {path.string(), {}, 0},
                    "a pickle that is not a torch.save checkpoint (no legacy magic number, no zip)");
  return read_zip(mapped, options);
}

Checkpoint read_pytorch_index(const fs::path& index_path, const ReadOptions& options) {
  const std::string file = index_path.string();
  nlohmann::ordered_json index;
  try {
    index = parse_json_rejecting_duplicates(slurp(index_path));
  } catch (const DuplicateJsonKey& dup) {
    throw bad_input("pytorch.402", {file, dup.key, {}}, "index names this tensor twice");
  } catch (const nlohmann::json::exception& e) {
    throw bad_input("pytorch.401", {file, {}, {}}, std::string("index is not valid JSON: ") + e.what());
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw bad_input("pytorch.401", {file, {}, {}}, "index has no \"weight_map\" object");
  std::vector<std::string> shards;
  std::map<std::string, std::string> shard_of;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw bad_input("pytorch.401", {file, name, {}}, "weight_map value is not a file name");
    const std::string s = shard.get<std::string>();
    if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..")
      throw bad_input("pytorch.403", {file, name, {}}, "shard name '" + s + "' is not a plain file name");
    if (std::find(shards.begin(), shards.end(), s) == shards.end()) shards.push_back(s);
    shard_of[name] = s;
  }
  Checkpoint out;
  out.format = "pytorch";
  std::map<std::string, std::string> seen;
  ReadOptions per_shard = options;
  per_shard.strip_module_prefix = false;  // applied once, over every shard
  for (const auto& s : shards) {
    Checkpoint part = read_pytorch_file(index_path.parent_path() / s, per_shard);
    out.files.push_back(part.files.front());
    for (const auto& [k, v] : part.metadata) out.metadata.emplace(k, v);
    for (auto& t : part.tensors) {
      auto it = shard_of.find(t->name());
      if (it == shard_of.end() || it->second != s)
        throw bad_input("pytorch.405", {file, t->name(), {}}, "tensor in shard " + s + " is not mapped to it by the index");
      if (!seen.emplace(t->name(), s).second)
        throw bad_input("pytorch.406", {file, t->name(), {}}, "tensor appears in two shards");
      out.tensors.push_back(std::move(t));
    }
  }
  for (const auto& [name, s] : shard_of)
    if (!seen.count(name))
      throw bad_input("pytorch.404", {file, name, {}}, "index maps this tensor to " + s + ", which does not hold it");
  if (options.strip_module_prefix) {
    std::vector<std::string> names;
    for (const auto& t : out.tensors) names.push_back(t->name());
    strip_common_module_prefix(names);
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] != out.tensors[i]->name()) out.tensors[i] = renamed(out.tensors[i], names[i]);
  }
  return out;
}

Checkpoint read_pytorch(const fs::path& path, const ReadOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "pytorch_model.bin.index.json", ec))
      return read_pytorch_index(path / "pytorch_model.bin.index.json", options);
    return read_pytorch_file(path / "pytorch_model.bin", options);
  }
  if (path.filename().string().ends_with(".index.json")) return read_pytorch_index(path, options);
  return read_pytorch_file(path, options);
}

}  // namespace supra
