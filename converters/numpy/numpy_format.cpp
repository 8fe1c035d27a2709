// NumPy .npy / .npz in the format table.
#include "converters/format_detection.hpp"
#include "converters/numpy/npy_header.hpp"
#include "converters/zip/zip_reader.hpp"

namespace supra {

bool sniff_numpy(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  if (numpy::has_npy_magic(head)) return true;
  if (!zip::looks_like_zip(head)) return false;
  if (path.extension() == ".npz") return true;
  // np.savez's first member is <name>.npy.
  if (head.size() < 30) return false;
  const size_t n = size_t(head[26]) | size_t(head[27]) << 8;
  if (head.size() < 30 + n) return false;
  return std::string(reinterpret_cast<const char*>(head.data() + 30), n).ends_with(".npy");
}

bool claims_numpy_output(const fs::path& out) { return out.extension() == ".npy" || out.extension() == ".npz"; }

}  // namespace supra
