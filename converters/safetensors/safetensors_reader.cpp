#include "converters/safetensors/safetensors_reader.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "converters/json_strict.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxHeaderSize = 100'000'000;  // tensor.rs MAX_HEADER_SIZE
constexpr uint64_t kMaxJsonInt = (1ull << 53);    // schema: size_t "no more than 48 bits"; allow 53

struct Entry {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t begin, end;
};

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // the machines we build for are little-endian
}

std::vector<uint64_t> read_uint_array(const json& j, const std::string& file, const std::string& name,
                                      uint64_t offset, const char* id, const char* what) {
  if (!j.is_array())
    throw bad_input(id, {file, name, offset}, std::string(what) + " is not an array");
  std::vector<uint64_t> out;
  for (const auto& v : j) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() >= kMaxJsonInt)
      throw bad_input(id, {file, name, offset},
                      std::string(what) + " holds " + v.dump() + ", not a non-negative integer");
    out.push_back(v.get<uint64_t>());
  }
  return out;
}

// The 8-byte length and the JSON header it announces, parsed (duplicate keys refused).
json read_header(const MappedFile& file, uint64_t& header_len) {
  const std::string& path = file.path();
  const uint64_t size = file.size();
  if (size < 8)
    throw bad_input("safetensors.101", {path, {}, 0},
                    "file is " + std::to_string(size) + " bytes, too small for a safetensors header");
  std::byte len_bytes[8];
  file.read_at(0, len_bytes);
  header_len = read_u64_le(len_bytes);
  if (header_len > kMaxHeaderSize)
    throw bad_input("safetensors.102", {path, {}, 0},
                    "header length " + std::to_string(header_len) +
                        " exceeds the 100 MB limit (not a safetensors file, or a Git LFS pointer?)");
  if (header_len > size - 8)
    throw bad_input("safetensors.103", {path, {}, 0},
                    "header length " + std::to_string(header_len) + " runs past the end of the " +
                        std::to_string(size) + "-byte file (truncated download?)");
  std::string header(header_len, '\0');
  file.read_at(8, std::as_writable_bytes(std::span(header)));
  if (auto bad = first_invalid_utf8(header))
    throw bad_input("safetensors.104", {path, {}, 8 + *bad}, "header is not valid UTF-8");

  json root;
  try {
    root = parse_json_rejecting_duplicates(header);
  } catch (const DuplicateJsonKey& dup) {
    throw bad_input("safetensors.107", {path, dup.key, 8},
                    "header names '" + dup.key + "' twice (duplicate JSON key)");
  } catch (const json::parse_error& e) {
    throw bad_input("safetensors.105", {path, {}, 8 + uint64_t(e.byte > 0 ? e.byte - 1 : 0)},
                    std::string("header is not valid JSON: ") + e.what());
  } catch (const json::exception& e) {  // out_of_range: a number like 1e400 overflows a double
    throw bad_input("safetensors.105", {path, {}, 8}, std::string("header is not valid JSON: ") + e.what());
  }
  if (!root.is_object())
    throw bad_input("safetensors.106", {path, {}, 8}, "header is not a JSON object");

  return root;
}

// The tensor entries of the header (any order), and its __metadata__ into `metadata`.
std::vector<Entry> parse_entries(const json& root, const std::string& path, uint64_t data_start,
                                 std::map<std::string, std::string>& metadata) {
  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        throw bad_input("safetensors.108", {path, {}, 8}, "__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          throw bad_input("safetensors.108", {path, {}, 8},
                          "__metadata__ value of '" + mk + "' is " + mv.dump() + ", not a string");
        metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") ||
        !value.contains("data_offsets"))
      throw bad_input("safetensors.109", {path, key, 8},
                      "entry must be an object with dtype, shape and data_offsets");
    const json& dt = value["dtype"];
    std::optional<DType> dtype = dt.is_string() ? dtype_from_safetensors(dt.get<std::string>()) : std::nullopt;
    if (!dtype)
      throw bad_input("safetensors.110", {path, key, 8}, "unknown dtype " + dt.dump());
    auto shape = read_uint_array(value["shape"], path, key, 8, "safetensors.111", "shape");
    auto offsets = read_uint_array(value["data_offsets"], path, key, 8, "safetensors.112", "data_offsets");
    if (offsets.size() != 2)
      throw bad_input("safetensors.112", {path, key, 8}, "data_offsets must hold exactly [begin, end]");
    if (offsets[1] < offsets[0])
      throw bad_input("safetensors.112", {path, key, data_start + offsets[0]},
                      "data_offsets end " + std::to_string(offsets[1]) + " is before begin " +
                          std::to_string(offsets[0]));
    entries.push_back({key, *dtype, std::move(shape), offsets[0], offsets[1]});
  }

  return entries;
}

// Every byte of the data section has exactly one owner: sorted by offsets,
// each tensor starts where the previous one ended, and the last one ends the file.
void check_spans(std::vector<Entry> entries, const std::string& path, uint64_t data_start, uint64_t size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expected_begin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    TensorInfo info{e.name, e.dtype, e.shape};
    uint64_t nbytes;
    try {
      nbytes = info.nbytes();
    } catch (const Error&) {
      throw bad_input("safetensors.118", {path, e.name, data_start + e.begin},
                      "shape " + info.shape_string() + " overflows 64 bits");
    }
    if (e.end - e.begin != nbytes)
      throw bad_input("safetensors.113", {path, e.name, data_start + e.begin},
                      "span of " + std::to_string(e.end - e.begin) + " bytes does not match " +
                          std::string(dtype_name(e.dtype)) + " " + info.shape_string() + " (" +
                          std::to_string(nbytes) + " bytes)");
    if (e.begin < expected_begin)
      throw bad_input("safetensors.114", {path, e.name, data_start + e.begin},
                      "span overlaps '" + (previous ? previous->name : std::string()) + "'");
    if (e.begin > expected_begin)
      throw bad_input("safetensors.115", {path, e.name, data_start + e.begin},
                      "hole of " + std::to_string(e.begin - expected_begin) +
                          " bytes before this tensor (data must be contiguous)");
    if (e.end > size - data_start)
      throw bad_input("safetensors.116", {path, e.name, data_start + e.begin},
                      "data runs past the end of the file (truncated?)");
    expected_begin = e.end;
    previous = &e;
  }
  if (data_start + expected_begin != size)
    throw bad_input("safetensors.117", {path, {}, data_start + expected_begin},
                    std::to_string(size - data_start - expected_begin) +
                        " trailing bytes after the last tensor");

}

}  // namespace

Checkpoint read_safetensors_file(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  uint64_t header_len = 0;
  const json root = read_header(*file, header_len);
  const uint64_t data_start = 8 + header_len;
  Checkpoint ckpt;
  ckpt.format = "safetensors";
  ckpt.files.push_back(path);
  const std::vector<Entry> entries = parse_entries(root, path, data_start, ckpt.metadata);
  check_spans(entries, path, data_start, file->size());

  // Keep the header's own order (ordered_json) for display; offsets decide layout.
  std::map<std::string_view, const Entry*> by_name;
  for (const Entry& e : entries) by_name[e.name] = &e;
  for (const auto& [key, _] : root.items()) {
    if (key == "__metadata__") continue;
    const Entry* e = by_name.at(key);
    ckpt.tensors.push_back(std::make_shared<FileTensorSource>(TensorInfo{e->name, e->dtype, e->shape},
                                                              file, data_start + e->begin));
  }
  return ckpt;
}

Checkpoint read_safetensors_file(const fs::path& path) {
  return read_safetensors_file(MappedFile::open(path.string()));
}

Checkpoint read_safetensors_index(const fs::path& index_path) {
  const std::string ipath = index_path.string();
  std::ifstream in(index_path, std::ios::binary);
  if (!in) throw io_error("io.open", {ipath, {}, {}}, "cannot open index file");
  // Real indexes are kilobytes; refuse to slurp an arbitrary huge file.
  std::error_code ec;
  const uint64_t index_size = fs::file_size(index_path, ec);
  if (ec || index_size > kMaxHeaderSize)
    throw bad_input("safetensors.201", {ipath, {}, {}},
                    "index file of " + std::to_string(index_size) + " bytes is over the 100 MB limit");
  std::stringstream ss;
  ss << in.rdbuf();
  json index;
  try {
    index = parse_json_rejecting_duplicates(ss.str());
  } catch (const DuplicateJsonKey& dup) {
    throw bad_input("safetensors.202", {ipath, dup.key, {}}, "index names '" + dup.key + "' twice");
  } catch (const json::exception& e) {
    throw bad_input("safetensors.201", {ipath, {}, {}}, std::string("index is not valid JSON: ") + e.what());
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw bad_input("safetensors.201", {ipath, {}, {}}, "index has no \"weight_map\" object");

  // Shards in order of first appearance; each must hold exactly the tensors
  // the map assigns to it.
  std::vector<std::string> shard_names;
  std::map<std::string, std::set<std::string>> expected;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw bad_input("safetensors.201", {ipath, tensor, {}}, "weight_map value is not a file name");
    const std::string s = shard.get<std::string>();
    if (s.find('/') != std::string::npos || s == ".." || s.empty())
      throw bad_input("safetensors.203", {ipath, tensor, {}}, "shard name '" + s + "' is not a plain file name");
    if (!expected.count(s)) shard_names.push_back(s);
    expected[s].insert(tensor);
  }
  Checkpoint ckpt;
  ckpt.format = "safetensors";
  for (const std::string& shard : shard_names) {
    const fs::path shard_path = index_path.parent_path() / shard;
    Checkpoint part = read_safetensors_file(shard_path);
    std::set<std::string> seen;
    for (auto& t : part.tensors) {
      if (!expected[shard].count(t->name()))
        throw bad_input("safetensors.204", {shard_path.string(), t->name(), {}},
                        "tensor is in the shard but not in the index's weight_map");
      seen.insert(t->name());
      ckpt.tensors.push_back(t);
    }
    for (const std::string& name : expected[shard])
      if (!seen.count(name))
        throw bad_input("safetensors.205", {shard_path.string(), name, {}},
                        "index maps this tensor to the shard but the shard does not hold it");
    for (auto& [k, v] : part.metadata) ckpt.metadata.emplace(k, v);
    ckpt.files.push_back(shard_path.string());
  }
  // The index is an input too: an output must never replace it.
  ckpt.files.push_back(ipath);
  return ckpt;
}

Checkpoint read_safetensors(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "model.safetensors.index.json"))
      return read_safetensors_index(path / "model.safetensors.index.json");
    if (fs::exists(path / "model.safetensors")) return read_safetensors_file(path / "model.safetensors");
    std::vector<fs::path> indexes, singles;
    for (const auto& e : fs::directory_iterator(path)) {
      const std::string n = e.path().filename().string();
      if (n.ends_with(".safetensors.index.json")) indexes.push_back(e.path());
      else if (n.ends_with(".safetensors")) singles.push_back(e.path());
    }
    if (indexes.size() == 1) return read_safetensors_index(indexes[0]);
    if (indexes.empty() && singles.size() == 1) return read_safetensors_file(singles[0]);
    throw bad_input("safetensors.206", {path.string(), {}, {}},
                    "folder holds " + std::to_string(indexes.size()) + " index files and " +
                        std::to_string(singles.size()) + " .safetensors files; name the one to read");
  }
  if (path.filename().string().ends_with(".index.json")) return read_safetensors_index(path);
  return read_safetensors_file(path);
}

}  // namespace supra
