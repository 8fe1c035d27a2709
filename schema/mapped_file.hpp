#pragma once
// A read-only file opened once and shared by every tensor that lives in it:
// an fd for streaming reads (pread / copy_file_range, which keep the
// process's resident memory flat) and a lazy whole-file mmap for zero-copy
// random access (headers, forward passes).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

namespace supra {

class MappedFile {
 public:
  // Throws supra::Error (io.open) if the file cannot be opened.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }

  // The whole file mapped into memory (mapped on first call).
  std::span<const std::byte> bytes() const;
  // Reads exactly out.size() bytes at `offset`; throws (io.read) on a short read.
  void read_at(uint64_t offset, std::span<std::byte> out) const;

 private:
  MappedFile(std::string path, int fd, uint64_t size);
  std::string path_;
  int fd_;
  uint64_t size_;
  mutable std::once_flag map_once_;
  mutable const std::byte* map_ = nullptr;
};

}  // namespace supra
