// read_hdf5: the walk of hdf5_reader.cpp, run in a libhdf5 worker process.
// The worker opens the file, describes what it found (metadata, and per
// tensor its dtype, shape and either its offset in the file or "ask me"),
// then serves reads of the tensors only libhdf5 can decode (chunked,
// compressed, converted). The parent checks the description against the
// file it maps itself and reads contiguous tensors from it directly, so
// zero-copy conversion is unchanged.
#include <filesystem>
#include <limits>

#include "converters/hdf5/hdf5_reader.hpp"
#include "converters/hdf5/hdf5_wire.hpp"
#include "converters/hdf5/hdf5_worker.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using namespace hdf5;

constexpr uint8_t kOk = 0, kFailed = 1;
constexpr uint8_t kInFile = 0, kAskWorker = 1;
constexpr uint64_t kMaxDescription = 1ull << 30;
constexpr uint64_t kMaxReadPiece = 16ull << 20;  // each piece gets the time limit

void write_failure(WireWriter& w, const std::exception_ptr& e, const std::string& file) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    w.error(err);
  } catch (const std::exception& other) {
    w.error(Error(ErrorKind::Internal, "hdf5.worker", {file, {}, {}}, other.what()));
  }
}

std::string describe(const Checkpoint& c) {
  WireWriter w;
  w.u8(kOk);
  w.u64(c.metadata.size());
  for (const auto& [k, v] : c.metadata) {
    w.str(k);
    w.str(v);
  }
  // Attribute text is not always UTF-8: a JSON dump that would throw is left out.
  w.str(c.format_metadata.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  w.u64(c.tensors.size());
  for (const TensorPtr& t : c.tensors) {
    w.str(t->name());
    w.u8(uint8_t(t->info().dtype));
    w.u64(t->info().shape.size());
    for (uint64_t d : t->info().shape) w.u64(d);
    const auto span = t->file_span();
    w.u8(span ? kInFile : kAskWorker);
    w.u64(span ? span->offset : 0);
  }
  w.u64(c.skipped.size());
  for (const SkippedEntry& e : c.skipped)
    for (const std::string* s : {&e.name, &e.type, &e.why, &e.id}) w.str(*s);
  return std::move(w.bytes());
}

// The worker: open, describe, then answer reads until the parent hangs up.
void serve(const fs::path& path, int fd) {
  Checkpoint ckpt;
  std::string request;
  if (!receive_message(fd, request)) return;  // the open request (empty)
  {
    std::string reply;
    try {
      ckpt = read_hdf5_in_this_process(path);
      reply = describe(ckpt);
    } catch (...) {
      WireWriter w;
      w.u8(kFailed);
      write_failure(w, std::current_exception(), path.string());
      reply = std::move(w.bytes());
    }
    send_message(fd, reply);
  }
  while (receive_message(fd, request)) {
    std::string reply;
    try {
      WireReader r(request, path.string());
      const uint64_t index = r.u64(), offset = r.u64(), size = r.u64();
      if (index >= ckpt.tensors.size() || size > kMaxReadPiece) throw std::out_of_range("bad read request");
      reply.resize(size_t(1 + size));
      reply[0] = char(kOk);
      ckpt.tensors[size_t(index)]->read(offset, std::as_writable_bytes(std::span(reply).subspan(1)));
    } catch (...) {
      WireWriter w;
      w.u8(kFailed);
      write_failure(w, std::current_exception(), path.string());
      reply = std::move(w.bytes());
    }
    send_message(fd, reply);
  }
}

// A tensor only libhdf5 can decode: read piece by piece through the worker.
class WorkerTensorSource final : public TensorSource {
 public:
  WorkerTensorSource(TensorInfo info, std::shared_ptr<Worker> worker, uint64_t index, std::string file)
      : TensorSource(std::move(info)), worker_(std::move(worker)), index_(index), file_(std::move(file)) {}

  void read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const override {
    const uint64_t elem = dtype_size(info().dtype);
    const uint64_t piece = kMaxReadPiece / elem * elem;
    for (uint64_t done = 0; done < out.size(); done += piece) {
      const uint64_t n = std::min<uint64_t>(piece, out.size() - done);
      WireWriter w;
      w.u64(index_);
      w.u64(offset + done);
      w.u64(n);
      std::string error;
      if (worker_->call_into(w.bytes(), out.subspan(size_t(done), size_t(n)), error) != kOk)
        throw WireReader(error, file_).error();
    }
  }

 private:
  std::shared_ptr<Worker> worker_;
  uint64_t index_;
  std::string file_;
};

DType checked_dtype(WireReader& r) {
  const uint8_t d = r.u8();
  for (DType t : kAllDTypes)
    if (uint8_t(t) == d) return t;
  r.malformed("dtype");
}

// The worker's description as a Checkpoint, every size checked against the file.
Checkpoint from_description(WireReader& r, const std::shared_ptr<Worker>& worker, const std::string& path,
                            bool& needs_worker) {
  Checkpoint ckpt;
  ckpt.format = "hdf5";
  ckpt.files.push_back(path);
  for (uint64_t n = r.u64(), i = 0; i < n; ++i) {
    std::string k = r.str();
    ckpt.metadata[k] = r.str();
  }
  const std::string format_metadata = r.str();
  try {
    ckpt.format_metadata = nlohmann::ordered_json::parse(format_metadata);
  } catch (const nlohmann::json::exception&) {
    r.malformed("format metadata");
  }
  std::shared_ptr<const MappedFile> mapped;
  for (uint64_t n = r.u64(), i = 0; i < n; ++i) {
    TensorInfo info;
    info.name = r.str();
    info.dtype = checked_dtype(r);
    const uint64_t rank = r.u64();
    if (rank > 64) r.malformed("rank");
    for (uint64_t d = 0; d < rank; ++d) info.shape.push_back(r.u64());
    const uint8_t where = r.u8();
    const uint64_t offset = r.u64();
    const uint64_t nbytes = info.nbytes();  // throws on overflow
    if (where == kInFile) {
      if (!mapped) mapped = MappedFile::open(path);
      if (offset > mapped->size() || nbytes > mapped->size() - offset)
        throw bad_input("hdf5.107", {path, info.name, offset}, "data runs past the end of the file");
      ckpt.tensors.push_back(std::make_shared<FileTensorSource>(std::move(info), mapped, offset));
    } else if (where == kAskWorker) {
      needs_worker = true;
      ckpt.tensors.push_back(std::make_shared<WorkerTensorSource>(std::move(info), worker, i, path));
    } else {
      r.malformed("tensor location");
    }
  }
  for (uint64_t n = r.u64(), i = 0; i < n; ++i) {
    SkippedEntry e;
    for (std::string* s : {&e.name, &e.type, &e.why, &e.id}) *s = r.str();
    ckpt.skipped.push_back(std::move(e));
  }
  if (!r.at_end()) r.malformed("trailing bytes");
  return ckpt;
}

}  // namespace

Checkpoint read_hdf5(const fs::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw io_error("io.open", {file, {}, {}}, "no such file");
  auto worker = std::make_shared<Worker>(file, [path](int fd) { serve(path, fd); });
  const std::string reply = worker->call("", kMaxDescription);
  WireReader r(reply, file);
  if (r.u8() != kOk) throw r.error();
  bool needs_worker = false;
  Checkpoint ckpt = from_description(r, worker, file, needs_worker);
  // Every tensor in the file as is: the worker is not needed any more.
  if (!needs_worker) worker.reset();
  return ckpt;
}

}  // namespace supra
