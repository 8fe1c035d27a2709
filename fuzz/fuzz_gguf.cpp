// GGUF: header, typed key/values, tensor infos, offsets, quantized data.
#include "converters/gguf/gguf_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.gguf");
    supra::fuzz::exercise(supra::read_gguf(path));
  });
}
