// HDF5 in the format table: detected by its signature, written for .h5 / .hdf5 / .he5.
#include "converters/format_detection.hpp"
#include "converters/hdf5/hdf5_reader.hpp"

namespace supra {

bool sniff_hdf5(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && has_hdf5_signature(path, head);
}

bool claims_hdf5_output(const fs::path& out) {
  const std::string ext = out.extension().string();
  return ext == ".h5" || ext == ".hdf5" || ext == ".he5";
}

}  // namespace supra
