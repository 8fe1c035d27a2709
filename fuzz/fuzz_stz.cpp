// The .stz archive: header, footer, the zstd index and its JSON, block tables,
// and each block's frame when read.
#include "converters/zstd/stz_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.stz");
    supra::fuzz::exercise(supra::read_stz(path));
  });
}
