#pragma once
// A fixed set of worker threads that run numbered tasks. Results never
// depend on the thread count: callers split work into tasks by the shape of
// the data alone (rows, heads, weight panels), each task writes its own
// outputs, and no sum is split across tasks.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace supra::validate {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread. The caller's thread works too.
  explicit ThreadPool(int threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Runs task(0) ... task(n - 1), in any order and on any thread, and
  // returns when all are done. The first exception thrown by a task is
  // rethrown here (the remaining tasks still run).
  void run(size_t n, const std::function<void(size_t)>& task);

 private:
  void work_on(const std::function<void(size_t)>& task, size_t n);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t n_tasks_ = 0;
  std::atomic<size_t> next_{0};
  // Under mutex_: a worker joins a job only while it is open, and run()
  // returns only once the job is closed and every worker that joined it has
  // left, so no worker touches a job's counters after run() returned.
  size_t finished_ = 0;      // tasks finished in the current job
  uint64_t generation_ = 0;  // bumped for every job, so a worker joins each job once
  bool job_open_ = false;
  int busy_workers_ = 0;     // workers inside the current job
  std::exception_ptr error_;
  bool stop_ = false;
};

}  // namespace supra::validate
