// safetensors in the format table: a file whose first 8 bytes are a header
// length followed by a JSON object, an index, or a folder holding either.
#include <cstring>

#include "converters/format_detection.hpp"

namespace supra {

bool sniff_safetensors(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().filename().string().ends_with(".safetensors") ||
          e.path().filename().string().ends_with(".safetensors.index.json"))
        return true;
    return false;
  }
  if (path.filename().string().ends_with(".safetensors.index.json")) return true;
  // Content: a u64 header length, then a JSON object.
  if (head.size() < 9) return path.extension() == ".safetensors";
  uint64_t n;
  std::memcpy(&n, head.data(), 8);
  size_t i = 8;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < head.size() && is_space(char(head[i]))) ++i;
  const bool looks_like_header = n >= 2 && n <= 100'000'000 && i < head.size() && char(head[i]) == '{';
  return looks_like_header || path.extension() == ".safetensors";
}

bool claims_safetensors_output(const fs::path& out) { return out.extension() == ".safetensors" || names_a_folder(out); }

}  // namespace supra
