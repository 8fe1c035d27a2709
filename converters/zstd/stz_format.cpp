// Registers the .stz archive with the format table.
#include "converters/format.hpp"
#include "converters/zstd/stz_reader.hpp"
#include "converters/zstd/stz_writer.hpp"

namespace supra {
namespace {

class StzFormat final : public Format {
 public:
  std::string name() const override { return "stz"; }
  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && has_stz_magic(head);
  }
  bool claims_output(const fs::path& out) const override { return out.extension() == ".stz"; }
  Checkpoint read(const fs::path& path, const ReadOptions&) const override { return read_stz(path); }
  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return plan_stz(ckpt, out, options);
  }
  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return write_stz(ckpt, out, options);
  }
};

}  // namespace

const Format& stz_format() {
  static const StzFormat format;
  return format;
}

}  // namespace supra
