// Any checkpoint compressed with zstd (`model.safetensors.zst`, `x.pt.zst`)
// reads transparently: the file is stream-decompressed (bounded memory) to a
// temporary file in $TMPDIR and handed to the reader its content calls for.
// Decompressing to a file rather than reading through a stream keeps every
// reader zero-copy (mmap, copy_file_range). The temporary is unlinked as soon
// as the inner reader returns (readers open their files inside read(); the
// open descriptors keep the data alive), so nothing is left behind. Only the
// first 4 KiB are written before the inner format is known, and no more than
// 1024x the compressed size in all (zstd.107).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "converters/format_detection.hpp"
#include "converters/zstd/zstd_stream.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

constexpr int kMaxNesting = 3;  // x.zst.zst.zst is enough; deeper is a decompression bomb
constexpr uint64_t kSniffBytes = 4096;  // what detect_input_format looks at
// Real checkpoints compress 1.1x-3x (10x for mostly-zero ones); more than
// 1024x (deflate's own limit) is a decompression bomb. Small files get a
// floor so that tiny test checkpoints are never refused.
constexpr uint64_t kMaxExpansion = 1024;
constexpr uint64_t kMinBudget = 16ull << 20;

uint64_t compressed_size(const fs::path& path) {
  std::error_code ec;
  const uint64_t n = fs::file_size(path, ec);
  if (ec) throw io_error("io.open", {path.string(), {}, {}}, ec.message());
  return n;
}

class TempFile {
 public:
  explicit TempFile(const std::string& inner_name) {
    std::string tmpl = (fs::temp_directory_path() / "supra-zst-XXXXXX-").string();
    const int suffix = int(inner_name.size()) + 1;  // "-" + inner name
    tmpl += inner_name;  // keep the inner file name: some readers look at the extension
    fd_ = ::mkstemps(tmpl.data(), suffix);
    if (fd_ < 0) throw io_error("io.create", {tmpl, {}, {}}, std::strerror(errno));
    path_ = tmpl;
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    fs::remove(path_, ec);
  }
  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }

 private:
  int fd_ = -1;
  fs::path path_;
};

// Names the user's file, not the temporary, in errors of the inner reader.
Error with_file(const Error& e, const fs::path& original) {
  ErrorContext where = e.where();
  where.file = original.string() + " (decompressed)";
  return Error(e.kind(), e.id(), where, e.detail());
}

}  // namespace

bool sniff_zstd_compressed(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && has_zstd_magic(head);
}

Checkpoint read_zstd_compressed(const fs::path& path, const ReadOptions& options) {
  thread_local int depth = 0;
  if (depth >= kMaxNesting)
    throw bad_input("zstd.106", {path.string(), {}, {}}, "zstd inside zstd nested more than 3 deep");
  std::string inner_name = path.filename().string();
  if (inner_name.ends_with(".zst")) inner_name.resize(inner_name.size() - 4);
  else if (inner_name.ends_with(".zstd")) inner_name.resize(inner_name.size() - 5);
  ZstdFileDecompressor decompressor(path, std::max(kMinBudget, kMaxExpansion * compressed_size(path)));
  TempFile temp(inner_name);
  // The first bytes decide the format before the rest is written: a file
  // of zeros is refused after 4 KiB, not after filling $TMPDIR.
  decompressor.run(temp.fd(), kSniffBytes);
  const Format* inner = nullptr;
  try {
    inner = &detect_input_format(temp.path());
  } catch (const Error& e) {
    throw with_file(e, path);
  }
  decompressor.run(temp.fd());
  ++depth;
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{depth};
  try {
    Checkpoint ckpt = inner->read(temp.path(), options);
    ckpt.format = inner->name + "+zstd";
    ckpt.files = {path.string()};
    return ckpt;  // ~TempFile unlinks; readers hold open descriptors
  } catch (const Error& e) {
    throw with_file(e, path);
  }
}

}  // namespace supra
