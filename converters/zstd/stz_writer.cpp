#include "converters/zstd/stz_writer.hpp"

#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "converters/output_transaction.hpp"
#include "converters/zstd/byte_planes.hpp"
#include "converters/zstd/stz_layout.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using namespace stz;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
using CCtxPtr = std::unique_ptr<ZSTD_CCtx, CCtxDeleter>;

CCtxPtr make_cctx(int level) {
  CCtxPtr c(ZSTD_createCCtx());
  if (!c) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1);     // xxhash64 of each block
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_contentSizeFlag, 1);  // readers check the raw size
  return c;
}

std::vector<std::byte> compress(ZSTD_CCtx* cctx, std::span<const std::byte> raw) {
  std::vector<std::byte> out(ZSTD_compressBound(raw.size()));
  const size_t n = ZSTD_compress2(cctx, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

void pwrite_all(int fd, const std::byte* data, uint64_t size, uint64_t offset, const std::string& file) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error("io.write", {file, {}, offset}, std::strerror(errno));
    data += n;
    size -= uint64_t(n);
    offset += uint64_t(n);
  }
}

void put_u64(std::byte* p, uint64_t v) { std::memcpy(p, &v, 8); }  // little-endian hosts only

struct BlockJob {
  size_t tensor;
  uint64_t index;  // block number within the tensor
};

// One worker's reusable buffers and compression context.
struct Worker {
  CCtxPtr cctx;
  std::vector<std::byte> raw, planes;
};

std::vector<std::byte> compress_block(const TensorSource& src, uint64_t block_bytes, uint64_t index, Worker& w,
                                      CastStats& stats) {
  const TensorInfo& info = src.info();
  const uint64_t begin = index * block_bytes;
  const uint64_t n = std::min(block_bytes, info.nbytes() - begin);
  w.raw.resize(size_t(n));
  src.read(begin, w.raw, &stats);
  if (!uses_byte_planes(info.dtype)) return compress(w.cctx.get(), w.raw);
  w.planes.resize(size_t(n));
  split_byte_planes(w.raw, dtype_size(info.dtype), w.planes);
  return compress(w.cctx.get(), w.planes);
}

void check_names(const Checkpoint& ckpt) {
  std::set<std::string> seen;
  for (const auto& t : ckpt.tensors)
    if (!seen.insert(t->name()).second) throw bad_input("stz.302", {{}, t->name(), {}}, "two tensors have this name");
}

}  // namespace

WritePlan plan_stz(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  check_names(ckpt);
  const std::string name = out.filename().string();
  WritePlan plan;
  plan.files.push_back(name);
  for (const auto& t : ckpt.tensors) {
    const TensorInfo& info = t->info();
    // Frame offsets depend on compressed sizes: 0 = not known in advance.
    plan.tensors.push_back({info.name, info.dtype, info.shape, info.nbytes(), name, 0});
    plan.payload_bytes += info.nbytes();
  }
  // An upper bound: incompressible data plus frame overhead and the index.
  plan.output_bytes = kHeaderBytes + kFooterBytes + ZSTD_compressBound(plan.payload_bytes) + 256 * ckpt.tensors.size();
  const uint64_t threads = uint64_t(std::max(options.threads, 1));
  // Per worker: raw + planes + compressed; plus 2 compressed blocks per worker waiting to be written.
  plan.peak_memory_bytes = threads * (2 * kDefaultBlockBytes + 3 * ZSTD_compressBound(kDefaultBlockBytes));
  return plan;
}

WriteReport write_stz(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                      OutputTransaction& tx) {
  check_names(ckpt);
  const std::string name = out.filename().string();
  const uint64_t block_bytes = kDefaultBlockBytes;
  const int level = kDefaultLevel;

  std::vector<BlockJob> jobs;
  for (size_t t = 0; t < ckpt.tensors.size(); ++t) {
    const uint64_t nbytes = ckpt.tensors[t]->info().nbytes();
    for (uint64_t b = 0; b * block_bytes < nbytes; ++b) jobs.push_back({t, b});
  }

  const int fd = tx.create(name);
  WriteReport report;
  std::byte header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  std::memcpy(header + 8, &kVersion, 4);
  pwrite_all(fd, header, kHeaderBytes, 0, name);
  uint64_t offset = kHeaderBytes;

  const int n_threads = std::clamp(options.threads, 1, 64);
  std::vector<Worker> workers(static_cast<size_t>(n_threads));
  for (auto& w : workers) w.cctx = make_cctx(level);
  std::vector<std::vector<Block>> blocks(ckpt.tensors.size());
  std::vector<CastStats> stats(ckpt.tensors.size());

  // Batches of 2 blocks per thread: compressed in parallel, appended in order.
  const size_t batch = size_t(2 * n_threads);
  for (size_t first = 0; first < jobs.size(); first += batch) {
    const size_t count = std::min(batch, jobs.size() - first);
    std::vector<std::vector<std::byte>> frames(count);
    std::vector<CastStats> batch_stats(count);
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto run = [&](Worker& w) {
      for (size_t i = next++; i < count; i = next++) {
        try {
          const BlockJob& job = jobs[first + i];
          frames[i] = compress_block(*ckpt.tensors[job.tensor], block_bytes, job.index, w, batch_stats[i]);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
          return;
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min<size_t>(size_t(n_threads), count); ++t) pool.emplace_back(run, std::ref(workers[t]));
    run(workers[0]);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
    for (size_t i = 0; i < count; ++i) {
      const BlockJob& job = jobs[first + i];
      pwrite_all(fd, frames[i].data(), frames[i].size(), offset, name);
      blocks[job.tensor].push_back({offset, frames[i].size()});
      offset += frames[i].size();
      stats[job.tensor].add(batch_stats[i]);
      if (options.on_bytes) {
        const uint64_t nbytes = ckpt.tensors[job.tensor]->info().nbytes();
        options.on_bytes(std::min(block_bytes, nbytes - job.index * block_bytes));
      }
    }
  }

  nlohmann::ordered_json index;
  index["format"] = "supra.stz";
  index["version"] = kVersion;
  index["block_bytes"] = block_bytes;
  index["level"] = level;
  index["source_format"] = ckpt.format;
  index["metadata"] = ckpt.metadata;
  index["format_metadata"] = ckpt.format_metadata;
  auto& tensors = index["tensors"] = nlohmann::ordered_json::array();
  for (size_t t = 0; t < ckpt.tensors.size(); ++t) {
    const TensorInfo& info = ckpt.tensors[t]->info();
    nlohmann::ordered_json entry;
    entry["name"] = info.name;
    entry["dtype"] = std::string(dtype_name(info.dtype));
    entry["shape"] = info.shape;
    entry["transform"] = uses_byte_planes(info.dtype) ? "byte_planes" : "none";
    auto& list = entry["blocks"] = nlohmann::ordered_json::array();
    for (const Block& b : blocks[t]) list.push_back({b.offset, b.size});
    tensors.push_back(std::move(entry));
    if (stats[t].overflow || stats[t].underflow) report.cast_stats[info.name].add(stats[t]);
  }
  const std::string text = index.dump();
  const auto frame = compress(workers[0].cctx.get(), std::as_bytes(std::span(text)));
  pwrite_all(fd, frame.data(), frame.size(), offset, name);
  std::byte footer[kFooterBytes];
  put_u64(footer, offset);
  put_u64(footer + 8, frame.size());
  put_u64(footer + 16, text.size());
  std::memcpy(footer + 24, kFooterMagic, 8);
  pwrite_all(fd, footer, kFooterBytes, offset + frame.size(), name);
  report.bytes_written = offset + frame.size() + kFooterBytes;
  return report;
}

}  // namespace supra
