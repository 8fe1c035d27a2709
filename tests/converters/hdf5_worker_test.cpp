// The libhdf5 worker process (hdf5_worker.hpp): a worker that crashes, hangs
// or answers nonsense ends in a clean supra::Error, in bounded time, and the
// process that asked goes on. Real malformed files that crash or hang
// libhdf5 are replayed by tests/tools/regression_inputs_test.cpp.
#include "converters/hdf5/hdf5_worker.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "schema/error.hpp"

namespace supra::hdf5 {
namespace {

struct TimeoutEnv {
  explicit TimeoutEnv(const char* seconds) { ::setenv("SUPRA_HDF5_TIMEOUT", seconds, 1); }
  ~TimeoutEnv() { ::unsetenv("SUPRA_HDF5_TIMEOUT"); }
};

Error call_error(Worker& w) {
  try {
    (void)w.call("hello", 1 << 20);
  } catch (const Error& e) {
    return e;
  }
  throw std::runtime_error("the call succeeded");
}

TEST(Hdf5Worker, AnswersRequests) {
  Worker w("f.h5", [](int fd) {
    std::string request;
    while (receive_message(fd, request)) send_message(fd, "re: " + request);
  });
  EXPECT_EQ(w.call("a", 100), "re: a");
  EXPECT_EQ(w.call("bc", 100), "re: bc");
}

TEST(Hdf5Worker, ACrashIsAnError) {
  Worker w("f.h5", [](int) { ::raise(SIGSEGV); });
  const Error e = call_error(w);
  EXPECT_EQ(e.id(), "hdf5.112");
  EXPECT_EQ(e.kind(), ErrorKind::BadInput);
  EXPECT_NE(e.detail().find("crashed"), std::string::npos) << e.detail();
  EXPECT_EQ(call_error(w).id(), "hdf5.112");  // and stays one
}

TEST(Hdf5Worker, AHangIsAnErrorAfterTheTimeLimit) {
  TimeoutEnv limit("1");
  Worker w("f.h5", [](int) {
    for (;;) ::pause();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(call_error(w).id(), "hdf5.111");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 5);
}

TEST(Hdf5Worker, MemoryBeyondItsLimitEndsTheWorkerNotTheCaller) {
  ::setenv("SUPRA_HDF5_MEMORY_MB", "64", 1);
  Worker w("f.h5", [](int fd) {
    std::vector<char> big(size_t(512) << 20, 1);  // what a corrupt size field might ask for
    send_message(fd, std::string(1, big[12345]));
  });
  ::unsetenv("SUPRA_HDF5_MEMORY_MB");
  EXPECT_EQ(call_error(w).id(), "hdf5.112");
}

TEST(Hdf5Worker, ANonsenseReplyIsAnError) {
  Worker w("f.h5", [](int fd) {
    std::string request;
    receive_message(fd, request);
    const uint64_t huge = 1ull << 40;
    ::write(fd, &huge, 8);
    for (;;) ::pause();
  });
  EXPECT_EQ(call_error(w).id(), "hdf5.113");
}

}  // namespace
}  // namespace supra::hdf5
