// A NumPy .npz: the zip container, stored and deflated .npy members.
#include "converters/numpy/numpy_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "arrays.npz");
    supra::fuzz::exercise(supra::read_npz(path));
  });
}
