#include "fuzz/fuzz_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace supra::fuzz {

const fs::path& work_dir() {
  static const fs::path dir = [] {
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("supra-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

fs::path write_input(const uint8_t* data, size_t size, const std::string& name) {
  const fs::path p = work_dir() / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return p;
}

void exercise(const Checkpoint& ckpt) {
  constexpr uint64_t kChunk = 1 << 20;
  // A compressed format may legitimately hold far more than its input (an
  // .stz of zeros): past this many bytes only last elements are read, so an
  // input's time is bounded by its reader, not by its declared size.
  uint64_t budget = 64ull << 20;
  std::vector<std::byte> buffer;
  nlohmann::ordered_json report;
  report["format"] = ckpt.format;
  report["files"] = ckpt.files;
  report["metadata"] = ckpt.metadata;
  report["display_metadata"] = ckpt.display_metadata;
  report["total_bytes"] = ckpt.total_bytes();
  for (const TensorPtr& t : ckpt.tensors) {
    const uint64_t nbytes = t->info().nbytes(), elem = dtype_size(t->info().dtype);
    const uint64_t chunk = kChunk / elem * elem;
    for (uint64_t at = 0; at < nbytes && budget > 0; at += chunk) {
      buffer.resize(size_t(std::min({chunk, nbytes - at, budget / elem * elem})));
      if (buffer.empty()) break;
      t->read(at, buffer);
      budget -= buffer.size();
    }
    if (nbytes >= elem) {  // out of order: the last element alone
      buffer.resize(size_t(elem));
      t->read(nbytes - elem, buffer);
    }
    report["tensors"].push_back({{"name", t->name()}, {"dtype", dtype_name(t->info().dtype)},
                                 {"shape", t->info().shape}});
  }
  // As `inspect --json` prints it.
  (void)report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void report_escape(const char* what, const char* type) {
  std::fprintf(stderr, "FINDING: an exception other than supra::Error escaped: %s: %s\n", type, what);
  std::abort();
}

}  // namespace supra::fuzz
