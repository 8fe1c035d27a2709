#include "validate/threads.hpp"

#include <algorithm>
#include <utility>

namespace supra::validate {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::work_on(const std::function<void(size_t)>& task, size_t n) {
  size_t done_here = 0;
  for (size_t i = next_.fetch_add(1); i < n; i = next_.fetch_add(1)) {
    try {
      task(i);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    ++done_here;
  }
  std::lock_guard lock(mutex_);
  finished_ += done_here;
  if (finished_ == n) {
    job_open_ = false;
    done_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(size_t)>* task;
    size_t n;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || (job_open_ && generation_ != seen); });
      if (stop_) return;
      seen = generation_;
      ++busy_workers_;
      task = task_;
      n = n_tasks_;
    }
    work_on(*task, n);
    std::lock_guard lock(mutex_);
    if (--busy_workers_ == 0) done_.notify_all();
  }
}

void ThreadPool::run(size_t n, const std::function<void(size_t)>& task) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) task(i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    n_tasks_ = n;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    job_open_ = true;
    ++generation_;
  }
  wake_.notify_all();
  work_on(task, n);
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return !job_open_ && busy_workers_ == 0; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace supra::validate
