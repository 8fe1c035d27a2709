// model.safetensors.index.json over two fixed, valid shards: the weight map,
// shard names (paths, duplicates) and which tensor lives where.
#include <cstring>

#include "converters/safetensors/safetensors_reader.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

// A one-tensor safetensors file: "<name>" F32 [2].
std::string shard(const std::string& name) {
  const std::string header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  return file + header + std::string(8, '\x01');
}

void write_shards() {
  static bool done = false;
  if (done) return;
  for (const auto& [file, tensor] : {std::pair{"model-00001-of-00002.safetensors", "a"},
                                     std::pair{"model-00002-of-00002.safetensors", "b"}}) {
    const std::string bytes = shard(tensor);
    supra::fuzz::write_input(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), std::string("index/") + file);
  }
  done = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_shards();
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "index/model.safetensors.index.json");
    supra::fuzz::exercise(supra::read_safetensors_index(path));
  });
}
