// A .zst input: streamed decompression, the format of what comes out, then
// that format's reader (any of them) on the decompressed file.
#include "converters/format.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.zst");
    const supra::Format* zstd = supra::find_format("zstd");
    supra::fuzz::exercise(zstd->read(path, {}));
  });
}
