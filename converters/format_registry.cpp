// The format table: one row per format, in detection order.
#include <fcntl.h>
#include <unistd.h>

#include "converters/format.hpp"
#include "converters/format_detection.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "converters/gguf/gguf_writer.hpp"
#include "converters/hdf5/hdf5_reader.hpp"
#include "converters/hdf5/hdf5_writer.hpp"
#include "converters/numpy/numpy_reader.hpp"
#include "converters/numpy/numpy_writer.hpp"
#include "converters/output_transaction.hpp"
#include "converters/pytorch/pytorch_reader.hpp"
#include "converters/pytorch/pytorch_writer.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "converters/safetensors/safetensors_writer.hpp"
#include "converters/zstd/stz_reader.hpp"
#include "converters/zstd/stz_writer.hpp"
#include "schema/error.hpp"

namespace supra {

// Readers that take no options, adapted to the table's signature.
template <Checkpoint (*reader)(const fs::path&)>
Checkpoint ignoring_options(const fs::path& path, const ReadOptions&) {
  return reader(path);
}

const std::vector<Format>& all_formats() {
  static const std::vector<Format> formats = {
      {.name = "safetensors",
       .writes_folders = true,
       .sniff = sniff_safetensors,
       .claims_output = claims_safetensors_output,
       .read = ignoring_options<read_safetensors>,
       .plan = plan_safetensors,
       .write = write_safetensors},
      // Before pytorch: a folder of consolidated.NN.pth shards. Read only:
      // Meta's layout is written with --layout meta.
      {.name = "meta", .sniff = sniff_meta_folder, .read = read_meta_folder},
      {.name = "pytorch",
       .sniff = sniff_pytorch,
       .claims_output = claims_pytorch_output,
       .read = read_pytorch,
       .plan = plan_pytorch,
       .write = write_pytorch},
      {.name = "numpy",
       .sniff = sniff_numpy,
       .claims_output = claims_numpy_output,
       .read = ignoring_options<read_numpy>,
       .plan = plan_numpy,
       .write = write_numpy},
      {.name = "gguf",
       .implied_layout = "gguf",
       .f32_vectors = true,
       .sniff = sniff_gguf,
       .claims_output = claims_gguf_output,
       .read = ignoring_options<read_gguf>,
       .plan = plan_gguf,
       .write = write_gguf},
      {.name = "hdf5",
       .sniff = sniff_hdf5,
       .claims_output = claims_hdf5_output,
       .read = ignoring_options<read_hdf5>,
       .plan = plan_hdf5,
       .write = write_hdf5},
      {.name = "stz",
       .sniff = sniff_stz,
       .claims_output = claims_stz_output,
       .read = ignoring_options<read_stz>,
       .plan = plan_stz,
       .write = write_stz},
      // Read only: supra writes .stz archives, not plain .zst files.
      {.name = "zstd", .sniff = sniff_zstd_compressed, .read = read_zstd_compressed},
  };
  return formats;
}

bool names_a_folder(const fs::path& out) {
  std::error_code ec;
  return !out.has_extension() || fs::is_directory(out, ec);
}

bool Format::is_folder_output(const fs::path& out) const { return writes_folders && names_a_folder(out); }

fs::path Format::output_folder(const fs::path& out) const {
  if (is_folder_output(out)) return out;
  return out.has_parent_path() ? out.parent_path() : fs::path(".");
}

WriteReport write_checkpoint(const Format& format, const Checkpoint& ckpt, const fs::path& out,
                             const WriteOptions& options) {
  if (!format.can_write()) throw usage_error("usage.format", "supra does not write " + format.name + " files");
  OutputTransaction tx(format.output_folder(out), options.force);
  WriteReport report = format.write(ckpt, out, options, tx);
  tx.commit();
  return report;
}

const Format* find_format(const std::string& name) {
  for (const Format& f : all_formats())
    if (f.name == name) return &f;
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
  for (const Format& f : all_formats())
    if (f.can_read() && f.sniff && f.sniff(path, head)) return f;
  throw bad_input("format.unknown", {path.string(), {}, {}},
                  "not a checkpoint format supra reads (looked at its first bytes and its name)");
}

const Format& choose_output_format(const fs::path& out, const std::string& explicit_name) {
  if (!explicit_name.empty()) {
    const Format* f = find_format(explicit_name);
    if (!f || !f->can_write()) throw usage_error("usage.format", "unknown output format '" + explicit_name + "'");
    return *f;
  }
  for (const Format& f : all_formats())
    if (f.can_write() && f.claims_output && f.claims_output(out)) return f;
  throw usage_error("usage.format",
                    "cannot tell the output format from '" + out.string() + "'; give --format");
}

}  // namespace supra
