// GGUF in the format table: detected by its magic "GGUF", written for output
// names ending in ".gguf".
#include <cstring>

#include "converters/format_detection.hpp"

namespace supra {

bool sniff_gguf(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  if (head.size() >= 4) return std::memcmp(head.data(), "GGUF", 4) == 0;
  return path.extension() == ".gguf";  // too short to tell: the reader will say what is wrong
}

bool claims_gguf_output(const fs::path& out) { return out.extension() == ".gguf"; }

}  // namespace supra
