// A NumPy .npy: magic, version, the header dict, data size and order.
#include "converters/numpy/numpy_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "array.npy");
    supra::fuzz::exercise(supra::read_npy(path));
  });
}
