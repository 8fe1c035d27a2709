#include <fcntl.h>
#include <unistd.h>

#include <array>

#include "converters/format.hpp"
#include "schema/error.hpp"

namespace supra {

// Each format defines its singleton accessor in its own folder.
const Format& safetensors_format();
const Format& meta_folder_format();
const Format& pytorch_format();
const Format& numpy_format();
const Format& gguf_format();
const Format& hdf5_format();
const Format& stz_format();
const Format& zstd_compressed_format();

const std::vector<const Format*>& all_formats() {
  static const std::vector<const Format*> formats = {
      &safetensors_format(),
      &meta_folder_format(),  // before pytorch: a folder of consolidated.NN.pth shards
      &pytorch_format(),
      &numpy_format(),
      &gguf_format(),
      &hdf5_format(),
      &stz_format(),
      &zstd_compressed_format(),
  };
  return formats;
}

const Format* find_format(const std::string& name) {
  for (const Format* f : all_formats())
    if (f->name() == name) return f;
  return nullptr;
}

namespace {
std::vector<std::byte> read_head(const fs::path& path) {
  std::vector<std::byte> head(4096);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = ::read(fd, head.data(), head.size());
  ::close(fd);
  head.resize(n > 0 ? size_t(n) : 0);
  return head;
}
}  // namespace

const Format& detect_input_format(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw io_error("io.open", {path.string(), {}, {}}, "no such file or directory");
  const auto head = fs::is_regular_file(path, ec) ? read_head(path) : std::vector<std::byte>{};
  for (const Format* f : all_formats())
    if (f->can_read() && f->sniff(path, head)) return *f;
  throw bad_input("format.unknown", {path.string(), {}, {}},
                  "not a checkpoint format supra reads (looked at its first bytes and its name)");
}

const Format& choose_output_format(const fs::path& out, const std::string& explicit_name) {
  if (!explicit_name.empty()) {
    const Format* f = find_format(explicit_name);
    if (!f || !f->can_write()) throw usage_error("usage.format", "unknown output format '" + explicit_name + "'");
    return *f;
  }
  for (const Format* f : all_formats())
    if (f->can_write() && f->claims_output(out)) return *f;
  throw usage_error("usage.format",
                    "cannot tell the output format from '" + out.string() + "'; give --format");
}

}  // namespace supra
