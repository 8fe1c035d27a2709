#pragma once
// The JSON tables under schema/architectures/ and schema/conventions/, compiled
// into the binary (cmake/embed_tables.cmake) so `supra` runs from any folder.
#include <span>
#include <string_view>

namespace supra {

struct EmbeddedFile {
  std::string_view path;  // relative to the source tree: "schema/conventions/meta.json"
  std::string_view text;  // the file's contents
};

std::span<const EmbeddedFile> embedded_table_files();

}  // namespace supra
