// The .stz archive in the format table.
#include "converters/format_detection.hpp"
#include "converters/zstd/stz_reader.hpp"

namespace supra {

bool sniff_stz(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && has_stz_magic(head);
}

bool claims_stz_output(const fs::path& out) { return out.extension() == ".stz"; }

}  // namespace supra
