#pragma once
// libhdf5 in a child process. libhdf5 1.10 crashes (segfaults) and loops
// forever on some malformed files, inside H5Fopen, H5Aread and H5Dread, where
// no check of supra's can reach; a crash or hang there must not take supra
// down (docs/robustness.md). So every libhdf5 call of the reader runs in a
// worker forked for the file, answering requests over a socket; the parent
// gives each answer a time limit and the worker a memory limit. A worker
// that dies or does not answer in time is killed and its file refused:
//   hdf5.111  no answer within the limit (SUPRA_HDF5_TIMEOUT seconds, default 120)
//   hdf5.112  the worker died (libhdf5 crashed on the file)
//   hdf5.113  the worker's reply is malformed
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace supra::hdf5 {

// Message framing, for both sides: u64 length, then the payload.
void send_message(int fd, std::string_view payload);
bool receive_message(int fd, std::string& payload);  // blocking; false at EOF

class Worker {
 public:
  // Forks; the child runs serve(fd) and exits. `file` names the file in errors.
  Worker(std::string file, std::function<void(int fd)> serve);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // One request, one reply of at most `max_reply` bytes (thread-safe).
  std::string call(std::string_view request, uint64_t max_reply);
  // A request whose reply is a status byte (0 = the data follows) and then
  // exactly out.size() bytes read straight into `out`; any other status is
  // followed by an error payload, returned in `error`. Returns the status.
  uint8_t call_into(std::string_view request, std::span<std::byte> out, std::string& error);

 private:
  void send(std::string_view request);
  void receive_exact(void* dst, uint64_t n);
  uint64_t receive_length(uint64_t max);
  [[noreturn]] void fail_dead();  // after EOF: reaps, says how the worker ended, throws
  [[noreturn]] void die(const char* id, std::string why);  // kills, reaps, remembers, throws
  void stop();

  std::string file_;
  pid_t pid_ = -1;
  int fd_ = -1;
  double timeout_seconds_;
  std::mutex mutex_;
  std::string dead_id_, dead_;  // the error once the worker is gone
};

// The time limit of one worker answer (SUPRA_HDF5_TIMEOUT, default 120 s).
double worker_timeout_seconds();
// Memory the worker may map beyond what it inherits: SUPRA_HDF5_MEMORY_MB, or
// 1 GiB + 8x the file. More, and libhdf5's allocation fails (the worker
// dies: hdf5.112).
uint64_t worker_memory_bytes(uint64_t file_size);

}  // namespace supra::hdf5
