// PyTorch: the zip container (or the legacy stream), data.pkl through the
// restricted unpickler, storages and tensor views.
#include "converters/pytorch/pytorch_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.pt");
    supra::fuzz::exercise(supra::read_pytorch_file(path, {}));
  });
}
