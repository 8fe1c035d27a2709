#include "schema/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "schema/error.hpp"

namespace supra {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error("io.open", {path, {}, {}}, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw io_error("io.open", {path, {}, {}}, "not a regular file");
  }
  return std::shared_ptr<const MappedFile>(new MappedFile(path, fd, uint64_t(st.st_size)));
}

MappedFile::MappedFile(std::string path, int fd, uint64_t size)
    : path_(std::move(path)), fd_(fd), size_(size) {}

MappedFile::~MappedFile() {
  if (map_ && size_ > 0) ::munmap(const_cast<std::byte*>(map_), size_);
  ::close(fd_);
}

std::span<const std::byte> MappedFile::bytes() const {
  std::call_once(map_once_, [this] {
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) throw io_error("io.mmap", {path_, {}, {}}, std::strerror(errno));
    map_ = static_cast<const std::byte*>(p);
  });
  return {map_, size_};
}

void MappedFile::read_at(uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset)
    throw bad_input("io.short", {path_, {}, offset},
                    "read of " + std::to_string(out.size()) + " bytes runs past the end of the file");
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw io_error("io.read", {path_, {}, offset + done},
                     n < 0 ? std::strerror(errno) : "unexpected end of file");
    done += size_t(n);
  }
}

}  // namespace supra
