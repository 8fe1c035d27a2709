#include "converters/byte_plan_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

namespace supra {
namespace {

void pwrite_all(int fd, const std::byte* data, uint64_t size, uint64_t offset,
                const std::string& file) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error("io.write", {file, {}, offset}, std::strerror(errno));
    data += n;
    size -= uint64_t(n);
    offset += uint64_t(n);
  }
}

// Asks the kernel to start writing a finished range to disk now, so the disk
// works while later tensors are still being produced and the fsync at commit
// finds little left to do. Only a hint: errors are ignored, the fsync still
// guarantees durability.
void start_writeback(int fd, uint64_t offset, uint64_t size) {
  ::sync_file_range(fd, off64_t(offset), off64_t(size), SYNC_FILE_RANGE_WRITE);
}
// Bytes written between two start_writeback calls of the read + write loop.
constexpr uint64_t kWritebackBytes = 32ull << 20;

// Kernel-side copy; returns false if the file systems do not support it, so
// the caller falls back to read + write. Writes into one output file take
// turns (`file_lock`, here and in write_one): the kernel serializes writers
// of an inode anyway, and threads contending for its lock spin, burning the
// CPU time another thread needs for casting (perf: 16% in rwsem_spin_on_owner).
bool copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off, uint64_t size,
                const WriteOptions& options, std::mutex& file_lock) {
  while (size > 0) {
    loff_t in = loff_t(in_off), out = loff_t(out_off);
    const size_t step = size_t(std::min<uint64_t>(size, kStreamChunkBytes * 8));
    ssize_t n;
    {
      std::lock_guard lock(file_lock);
      n = ::copy_file_range(in_fd, &in, out_fd, &out, step, 0);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
        return false;
      throw io_error("io.copy", {}, n < 0 ? std::strerror(errno) : "source file shrank");
    }
    start_writeback(out_fd, out_off, uint64_t(n));
    in_off += uint64_t(n);
    out_off += uint64_t(n);
    size -= uint64_t(n);
    if (options.on_bytes) options.on_bytes(uint64_t(n));
  }
  return true;
}

struct Job {
  int fd;
  std::mutex* file_lock;
  const std::string* file;
  const FileBytePlan::Placement* placement;
};

void write_one(const Job& job, const WriteOptions& options, std::vector<std::byte>& buffer,
               CastStats& stats) {
  const TensorSource& src = *job.placement->source;
  const uint64_t total = src.info().nbytes();
  if (total == 0) return;
  if (auto span = src.file_span(); span && span->file) {
    // Same bytes as in the input: let the kernel move them. A partial kernel
    // copy is simply redone by the fallback below, which rewrites every byte.
    if (copy_range(span->file->fd(), span->offset, job.fd, job.placement->offset, total, options,
                   *job.file_lock))
      return;
  }
  const uint64_t elem = dtype_size(src.info().dtype);
  const uint64_t chunk = std::max<uint64_t>(elem, kWriteChunkBytes / elem * elem);
  buffer.resize(size_t(std::min(chunk, total)));
  uint64_t queued = 0;  // bytes handed to start_writeback
  for (uint64_t done = 0; done < total;) {
    const uint64_t n = std::min(chunk, total - done);
    std::span<std::byte> out(buffer.data(), size_t(n));
    src.read(done, out, &stats);
    {
      std::lock_guard lock(*job.file_lock);  // as in copy_range: no spinning on the inode lock
      pwrite_all(job.fd, out.data(), n, job.placement->offset + done, *job.file);
    }
    if (options.on_bytes) options.on_bytes(n);
    done += n;
    if (done - queued >= kWritebackBytes || done == total) {
      start_writeback(job.fd, job.placement->offset + queued, done - queued);
      queued = done;
    }
  }
}

}  // namespace

uint64_t predicted_peak_memory(const std::vector<FileBytePlan>& files, int threads) {
  uint64_t headers = 0;
  bool any_cast = false;
  for (const auto& f : files) {
    headers += f.header.size() + f.trailer.size();
    for (const auto& b : f.blocks) headers += b.bytes.size();
    for (const auto& p : f.tensors)
      if (!p.source->file_span()) any_cast = true;
  }
  // Each worker holds one output chunk, plus one input chunk when it casts.
  const uint64_t per_thread = kWriteChunkBytes * (any_cast ? 2 : 1);
  return headers + per_thread * uint64_t(std::max(threads, 1));
}

WritePlan plan_from_byte_plans(const std::vector<FileBytePlan>& files, int threads) {
  WritePlan plan;
  for (const auto& f : files) {
    plan.files.push_back(f.name);
    plan.output_bytes += f.size;
    for (const auto& p : f.tensors) {
      const auto& info = p.source->info();
      plan.tensors.push_back({info.name, info.dtype, info.shape, info.nbytes(), f.name, p.offset});
      plan.payload_bytes += info.nbytes();
    }
  }
  plan.peak_memory_bytes = predicted_peak_memory(files, threads);
  return plan;
}

void write_byte_plans(OutputTransaction& tx, const std::vector<FileBytePlan>& files,
                   const WriteOptions& options, WriteReport& report) {
  std::vector<Job> jobs;
  std::deque<std::mutex> file_locks;  // one per output file (a deque: mutexes do not move)
  for (const auto& f : files) {
    const int fd = tx.create(f.name);
    if (::ftruncate(fd, off_t(f.size)) != 0)
      throw io_error("io.write", {f.name, {}, {}}, std::strerror(errno));
    pwrite_all(fd, f.header.data(), f.header.size(), 0, f.name);
    if (!f.trailer.empty()) pwrite_all(fd, f.trailer.data(), f.trailer.size(), f.trailer_offset, f.name);
    for (const auto& b : f.blocks) pwrite_all(fd, b.bytes.data(), b.bytes.size(), b.offset, f.name);
    report.bytes_written += f.size;
    std::mutex* file_lock = &file_locks.emplace_back();
    for (const auto& p : f.tensors) jobs.push_back({fd, file_lock, &f.name, &p});
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex mutex;
  auto worker = [&] {
    std::vector<std::byte> buffer;
    for (size_t i = next++; i < jobs.size() && !failed; i = next++) {
      CastStats stats;
      try {
        write_one(jobs[i], options, buffer, stats);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true)) first_error = std::current_exception();
        return;
      }
      if (stats.overflow || stats.underflow) {
        std::lock_guard lock(mutex);
        report.cast_stats[jobs[i].placement->source->name()].add(stats);
      }
    }
  };
  const int n_threads = std::clamp(options.threads, 1, 64);
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace supra
