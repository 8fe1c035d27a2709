// Registers HDF5 with the format table.
#include "converters/format.hpp"
#include "converters/hdf5/hdf5_reader.hpp"
#include "converters/hdf5/hdf5_writer.hpp"

namespace supra {
namespace {

class Hdf5Format final : public Format {
 public:
  std::string name() const override { return "hdf5"; }

  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && has_hdf5_signature(path, head);
  }

  bool claims_output(const fs::path& out) const override {
    const std::string ext = out.extension().string();
    return ext == ".h5" || ext == ".hdf5" || ext == ".he5";
  }

  Checkpoint read(const fs::path& path, const ReadOptions&) const override { return read_hdf5(path); }

  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return plan_hdf5(ckpt, out, options);
  }

  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return write_hdf5(ckpt, out, options);
  }
};

}  // namespace

const Format& hdf5_format() {
  static const Hdf5Format format;
  return format;
}

}  // namespace supra
