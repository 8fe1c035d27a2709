#include "tools/progress_bar.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "converters/byte_size.hpp"

namespace supra::cli {
namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes)
    : label_(std::move(label)), total_(total_bytes), enabled_(::isatty(STDERR_FILENO)), start_(now_seconds()) {
  if (!enabled_) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(200));
      draw();
    }
  });
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::draw() const {
  const uint64_t done = done_.load(std::memory_order_relaxed);
  const double frac = total_ ? double(done) / double(total_) : 1.0;
  const int width = 30, filled = int(frac * width);
  std::string bar(size_t(filled), '=');
  if (filled < width) bar += '>' + std::string(size_t(width - filled - 1), ' ');
  const double secs = now_seconds() - start_;
  const double gbps = secs > 0 ? double(done) / secs / 1e9 : 0;
  std::fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %.2f GB/s ", label_.c_str(), bar.c_str(), int(frac * 100),
               format_bytes(done).c_str(), format_bytes(total_).c_str(), gbps);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || !thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::fprintf(stderr, "\r\033[K");  // clear the bar: the summary follows
  std::fflush(stderr);
}

}  // namespace supra::cli
