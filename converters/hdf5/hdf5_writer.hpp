#pragma once
// HDF5 writer: supra's layout (hdf5_layout.hpp), one contiguous dataset per
// tensor, written through libhdf5 chunk by chunk (one H5Dwrite per hyperslab
// of at most kStreamChunkBytes), so memory stays bounded for any tensor size.
#include <filesystem>

#include "converters/format.hpp"

namespace supra {

WritePlan plan_hdf5(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_hdf5(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                       OutputTransaction& tx);

}  // namespace supra
