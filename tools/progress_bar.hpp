#pragma once
// A byte-count progress bar on stderr, drawn only when stderr is a terminal.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace supra::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total_bytes);
  ~ProgressBar();
  void add(uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  void finish();

 private:
  void draw() const;
  std::string label_;
  uint64_t total_;
  std::atomic<uint64_t> done_{0};
  bool enabled_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
  double start_;
};

}  // namespace supra::cli
