// Registers NumPy .npy / .npz with the format table.
#include "converters/format.hpp"
#include "converters/numpy/npy_header.hpp"
#include "converters/numpy/numpy_reader.hpp"
#include "converters/numpy/numpy_writer.hpp"
#include "converters/zip/zip_reader.hpp"

namespace supra {
namespace {

class NumpyFormat final : public Format {
 public:
  std::string name() const override { return "numpy"; }

  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
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

  bool claims_output(const fs::path& out) const override {
    return out.extension() == ".npy" || out.extension() == ".npz";
  }

  Checkpoint read(const fs::path& path, const ReadOptions&) const override { return read_numpy(path); }
  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return plan_numpy(ckpt, out, options);
  }
  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return write_numpy(ckpt, out, options);
  }
};

}  // namespace

const Format& numpy_format() {
  static const NumpyFormat format;
  return format;
}

}  // namespace supra
