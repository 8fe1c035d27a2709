#include "validate/inputs.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "converters/json_strict.hpp"
#include "converters/numpy/numpy_reader.hpp"
#include "schema/error.hpp"

namespace supra::validate {

namespace {

namespace fs = std::filesystem;

Error bad_tokens(const std::string& id, const std::string& source, const std::string& detail) {
  return bad_input("tokens." + id, {source, {}, {}}, detail);
}

uint32_t id_from_json(const nlohmann::ordered_json& v, const std::string& source, const std::string& where) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) || v.get<uint64_t>() > UINT32_MAX)
    throw bad_tokens("102", source, where + " is " + v.dump() + ", not a token id (an integer from 0 to 2^32 - 1)");
  return v.get<uint32_t>();
}

void check_rectangular(const TokenBatch& b) {
  if (b.sequences.empty() || b.sequences.front().empty())
    throw bad_tokens("103", b.source, "no token ids (an empty list)");
  for (size_t i = 1; i < b.sequences.size(); ++i)
    if (b.sequences[i].size() != b.sequences[0].size())
      throw bad_tokens("104", b.source,
                       "sequence " + std::to_string(i) + " has " + std::to_string(b.sequences[i].size()) +
                           " ids but sequence 0 has " + std::to_string(b.sequences[0].size()) +
                           ": sequences of one run must have equal lengths");
}

TokenBatch tokens_from_json(const std::string& text, const std::string& source) {
  nlohmann::ordered_json j;
  try {
    j = parse_json_rejecting_duplicates(text);
  } catch (const std::exception& e) {
    throw bad_tokens("101", source, std::string("not a JSON list of token ids: ") + e.what());
  }
  TokenBatch b;
  b.source = source;
  // `supra tokenize --json` output: {"ids": [...], "pieces": [...]}.
  if (j.is_object() && j.contains("ids")) j = nlohmann::ordered_json(j["ids"]);
  if (!j.is_array()) throw bad_tokens("101", source, "expected a JSON array of token ids, or a list of arrays");
  b.batched = !j.empty() && j.front().is_array();
  if (b.batched) {
    for (size_t s = 0; s < j.size(); ++s) {
      if (!j[s].is_array()) throw bad_tokens("101", source, "entry " + std::to_string(s) + " is not an array of ids");
      auto& seq = b.sequences.emplace_back();
      for (size_t t = 0; t < j[s].size(); ++t)
        seq.push_back(id_from_json(j[s][t], source, "sequence " + std::to_string(s) + ", entry " + std::to_string(t)));
    }
  } else {
    auto& seq = b.sequences.emplace_back();
    for (size_t t = 0; t < j.size(); ++t) seq.push_back(id_from_json(j[t], source, "entry " + std::to_string(t)));
  }
  check_rectangular(b);
  return b;
}

int64_t load_int(DType dtype, const std::byte* p) {
  switch (dtype) {
    case DType::I64: { int64_t v; std::memcpy(&v, p, 8); return v; }
    case DType::U64: { uint64_t v; std::memcpy(&v, p, 8); return v > uint64_t(INT64_MAX) ? -1 : int64_t(v); }
    case DType::I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::U32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::I16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case DType::U16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case DType::I8: return int8_t(*p);
    case DType::U8: return uint8_t(*p);
    default: return -1;
  }
}

TokenBatch tokens_from_npy(const fs::path& path) {
  const Checkpoint ckpt = read_npy(path);
  const TensorInfo& info = ckpt.tensors.at(0)->info();
  const std::string source = path.string();
  if (dtype_is_float(info.dtype) || info.dtype == DType::BOOL)
    throw bad_tokens("106", source, "token ids must be integers, found an array of " + std::string(dtype_name(info.dtype)));
  if (info.shape.size() != 1 && info.shape.size() != 2)
    throw bad_tokens("106", source, "expected a [T] or [B, T] array of ids, found " + info.shape_string());
  const std::vector<std::byte> bytes = ckpt.tensors[0]->read_all();
  TokenBatch b;
  b.source = source;
  b.batched = info.shape.size() == 2;
  const uint64_t rows = b.batched ? info.shape[0] : 1, cols = info.shape.back();
  const size_t esize = dtype_size(info.dtype);
  for (uint64_t s = 0; s < rows; ++s) {
    auto& seq = b.sequences.emplace_back();
    for (uint64_t t = 0; t < cols; ++t) {
      const int64_t v = load_int(info.dtype, bytes.data() + (s * cols + t) * esize);
      if (v < 0 || v > int64_t(UINT32_MAX))
        throw bad_tokens("102", source, "entry [" + std::to_string(s) + ", " + std::to_string(t) + "] is " +
                                            std::to_string(v) + ", not a token id");
      seq.push_back(uint32_t(v));
    }
  }
  check_rectangular(b);
  return b;
}

}  // namespace

TokenBatch read_tokens(const std::string& what) {
  const fs::path path(what);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    const auto first = what.find_first_not_of(" \t\n");
    if (first != std::string::npos && what[first] == '[') return tokens_from_json(what, "--tokens");
    throw io_error("tokens.100", {what, {}, {}}, "no such token file");
  }
  if (path.extension() == ".npy") return tokens_from_npy(path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw io_error("tokens.100", {what, {}, {}}, "cannot read the token file");
  if (text.str().starts_with("\x93NUMPY")) return tokens_from_npy(path);
  return tokens_from_json(text.str(), what);
}

TokenBatch random_tokens(uint64_t count, uint64_t seed, uint64_t vocab) {
  if (count == 0) throw usage_error("usage.tokens", "--random-tokens needs at least 1 token");
  TokenBatch b;
  b.source = std::to_string(count) + " random ids below " + std::to_string(vocab) + " (seed " + std::to_string(seed) + ")";
  std::mt19937_64 rng(seed);
  auto& seq = b.sequences.emplace_back();
  for (uint64_t i = 0; i < count; ++i) seq.push_back(uint32_t(rng() % vocab));
  return b;
}

std::vector<std::vector<int64_t>> as_token_sequences(const TokenBatch& batch) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& seq : batch.sequences) out.emplace_back(seq.begin(), seq.end());
  return out;
}

void check_token_range(const TokenBatch& batch, uint64_t vocab) {
  for (size_t s = 0; s < batch.sequences.size(); ++s)
    for (size_t t = 0; t < batch.sequences[s].size(); ++t)
      if (batch.sequences[s][t] >= vocab)
        throw bad_tokens("105", batch.source,
                         "token id " + std::to_string(batch.sequences[s][t]) + " at position " + std::to_string(t) +
                             (batch.batched ? " of sequence " + std::to_string(s) : std::string()) +
                             " is outside the model's vocabulary (" + std::to_string(vocab) + " ids)");
}

}  // namespace supra::validate
