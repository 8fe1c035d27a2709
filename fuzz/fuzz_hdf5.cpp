// HDF5: open and walk (in the libhdf5 worker process), then every dataset
// read, contiguous ones from the file and the others through the worker.
// A libhdf5 crash or hang must come back as hdf5.111 / hdf5.112; the
// worker's time limit is set below libFuzzer's -timeout, its memory limit
// below -malloc_limit_mb (the worker inherits libFuzzer's malloc hook).
#include <cstdlib>

#include "converters/hdf5/hdf5_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("SUPRA_HDF5_TIMEOUT", "1", 0);
  ::setenv("SUPRA_HDF5_MEMORY_MB", "1024", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const auto path = supra::fuzz::write_input(data, size, "model.h5");
    supra::fuzz::exercise(supra::read_hdf5(path));
  });
}
