// safetensors: the 8-byte length, the JSON header and the data offsets.
#include "converters/safetensors/safetensors_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.safetensors");
    supra::fuzz::exercise(supra::read_safetensors_file(path));
  });
}
