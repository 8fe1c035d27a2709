#include "converters/hdf5/hdf5_worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "schema/error.hpp"

// Set by the sanitizers (and libFuzzer through them): what runs when a
// report ends the process. The worker clears it, so a libhdf5 crash it
// survives is not taken for a crash of the fuzzed program.
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

namespace supra::hdf5 {
namespace {

constexpr double kDefaultTimeoutSeconds = 120;
// libhdf5 needs about a chunk at a time; 1 GiB plus 8x the file covers the
// largest chunk a real file holds, and stops the loops that allocate as they go.
constexpr uint64_t kBaseMemoryBytes = 1ull << 30;
constexpr uint64_t kMemoryPerFileByte = 8;

void write_exact(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw std::runtime_error("hdf5 worker socket closed");
    data += w;
    n -= size_t(w);
  }
}

bool read_exact_blocking(int fd, char* data, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, data, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    n -= size_t(r);
  }
  return true;
}

// Address space the process has mapped now (/proc/self/statm, first field in pages).
uint64_t mapped_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  return uint64_t(pages) * uint64_t(::sysconf(_SC_PAGESIZE));
}

// In the child, before serving: die with the parent, crash as a plain
// process (no handler of the parent's, no sanitizer death callback, no stderr), and get
// a memory limit beyond what is mapped already (the parent's mappings, and
// the sanitizers' shadow memory, are in the count): libhdf5 allocates what a
// corrupt size field says.
void become_worker(uint64_t memory) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const uint64_t limit = mapped_bytes() + memory;
  const struct rlimit as{limit, limit};
  ::setrlimit(RLIMIT_AS, &as);
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM, SIGTERM, SIGINT}) ::signal(sig, SIG_DFL);
  // What libhdf5 (or a sanitizer) would print as it goes down is not for the
  // user: the parent reports the file in one line.
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, 2);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
}

}  // namespace

uint64_t worker_memory_bytes(uint64_t file_size) {
  const char* env = std::getenv("SUPRA_HDF5_MEMORY_MB");
  char* end = nullptr;
  const double mb = env && *env ? std::strtod(env, &end) : 0;
  if (end && *end == '\0' && mb > 0) return uint64_t(mb) << 20;
  return kBaseMemoryBytes + kMemoryPerFileByte * file_size;
}

double worker_timeout_seconds() {
  const char* env = std::getenv("SUPRA_HDF5_TIMEOUT");
  if (!env || !*env) return kDefaultTimeoutSeconds;
  char* end = nullptr;
  const double v = std::strtod(env, &end);
  return end && *end == '\0' && v > 0 ? v : kDefaultTimeoutSeconds;
}

void send_message(int fd, std::string_view payload) {
  const uint64_t n = payload.size();
  write_exact(fd, reinterpret_cast<const char*>(&n), 8);
  write_exact(fd, payload.data(), payload.size());
}

bool receive_message(int fd, std::string& payload) {
  uint64_t n = 0;
  if (!read_exact_blocking(fd, reinterpret_cast<char*>(&n), 8)) return false;
  if (n > (1ull << 32)) return false;
  payload.resize(size_t(n));
  return read_exact_blocking(fd, payload.data(), payload.size());
}

Worker::Worker(std::string file, std::function<void(int fd)> serve)
    : file_(std::move(file)), timeout_seconds_(worker_timeout_seconds()) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(file_, ec);
  const uint64_t memory = worker_memory_bytes(ec ? 0 : size);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw io_error("io.socket", {file_, {}, {}}, std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw io_error("io.fork", {file_, {}, {}}, std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    become_worker(memory);
    try {
      serve(fds[1]);
    } catch (...) {
    }
    ::_exit(0);  // no destructors or atexit handlers of the parent's
  }
  ::close(fds[1]);
  pid_ = pid;
  fd_ = fds[0];
}

Worker::~Worker() { stop(); }

void Worker::stop() {
  if (fd_ >= 0) ::close(fd_);  // the worker sees EOF and exits
  fd_ = -1;
  if (pid_ <= 0) return;
  int status;
  for (int i = 0; i < 200; ++i) {  // 2 s to exit, then killed
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    ::usleep(10'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Worker::die(const char* id, std::string why) {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  dead_id_ = id;
  dead_ = std::move(why);
  throw bad_input(dead_id_, {file_, {}, {}}, dead_);
}

void Worker::fail_dead() {
  if (!dead_.empty()) throw bad_input(dead_id_, {file_, {}, {}}, dead_);
  // EOF: the worker is gone or going; give it a moment to be reaped.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 100 && !exited && pid_ > 0; ++i) {
    exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
    if (!exited) ::usleep(10'000);
  }
  if (exited) pid_ = -1;
  if (exited && WIFSIGNALED(status))
    die("hdf5.112", std::string("libhdf5 crashed reading this file (") + ::strsignal(WTERMSIG(status)) +
                        "): it is malformed, or trips a libhdf5 bug");
  die("hdf5.112", "the libhdf5 worker ended without answering: the file is malformed, or trips a libhdf5 bug");
}

void Worker::send(std::string_view request) {
  if (!dead_.empty()) fail_dead();
  try {
    send_message(fd_, request);
  } catch (const std::runtime_error&) {
    fail_dead();
  }
}

// Reads exactly n bytes, waiting at most the time limit in all.
void Worker::receive_exact(void* dst, uint64_t n) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(timeout_seconds_);
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = left > 0 ? ::poll(&pfd, 1, int(std::min<long long>(left, 1 << 30))) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0)
      die("hdf5.111", "libhdf5 did not answer within " + std::to_string(int(timeout_seconds_)) +
                          " s reading this file (it loops on some malformed files); SUPRA_HDF5_TIMEOUT=<seconds> "
                          "allows longer");
    const ssize_t r = ::read(fd_, p, size_t(std::min<uint64_t>(n, 1u << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail_dead();
    p += r;
    n -= uint64_t(r);
  }
}

uint64_t Worker::receive_length(uint64_t max) {
  uint64_t n = 0;
  receive_exact(&n, 8);
  if (n > max)
    die("hdf5.113", "the libhdf5 worker sent a reply of " + std::to_string(n) + " bytes (at most " +
                        std::to_string(max) + " expected)");
  return n;
}

std::string Worker::call(std::string_view request, uint64_t max_reply) {
  std::lock_guard lock(mutex_);
  send(request);
  std::string reply(size_t(receive_length(max_reply)), '\0');
  receive_exact(reply.data(), reply.size());
  return reply;
}

uint8_t Worker::call_into(std::string_view request, std::span<std::byte> out, std::string& error) {
  std::lock_guard lock(mutex_);
  send(request);
  const uint64_t n = receive_length(uint64_t(out.size()) + (1 << 20));
  if (n == 0) die("hdf5.113", "the libhdf5 worker sent an empty reply");
  uint8_t status = 0;
  receive_exact(&status, 1);
  if (status == 0) {
    if (n != 1 + out.size())
      die("hdf5.113", "the libhdf5 worker sent " + std::to_string(n - 1) + " bytes for a read of " +
                          std::to_string(out.size()));
    receive_exact(out.data(), out.size());
    return 0;
  }
  error.resize(size_t(n - 1));
  receive_exact(error.data(), error.size());
  return status;
}

}  // namespace supra::hdf5
