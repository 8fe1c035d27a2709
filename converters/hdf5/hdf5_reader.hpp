#pragma once
// HDF5 reader: supra's own layout (exact dtypes and metadata back) and any
// HDF5 file of weights (Keras `model_weights/...`, h5py dumps): every numeric
// dataset in the file, found recursively, named by its path without the
// leading '/'. Contiguous datasets are zero-copy views into the file;
// chunked / compressed ones are read through libhdf5 hyperslab by hyperslab.
// libhdf5 runs in a worker process (hdf5_worker.hpp): a file it crashes or
// hangs on is refused (hdf5.111 / hdf5.112), supra goes on.
#include <filesystem>

#include "schema/checkpoint.hpp"

namespace supra {

Checkpoint read_hdf5(const std::filesystem::path& path);

// The same, with libhdf5 in this process: what the worker runs. Anything
// else calls read_hdf5.
Checkpoint read_hdf5_in_this_process(const std::filesystem::path& path);

// True when `head` (the first bytes of a file) or the file at `path` holds
// the HDF5 signature at offset 0, 512, 1024, 2048, ... (user blocks).
bool has_hdf5_signature(const std::filesystem::path& path, std::span<const std::byte> head);

}  // namespace supra
