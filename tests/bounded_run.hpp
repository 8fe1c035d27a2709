#pragma once
// Runs a program in a child process under limits and reports how it ended:
// exit code or signal, wall time, peak resident memory, stdout and stderr.
// For tests that must show an input is handled in bounded time and memory.
#include <map>
#include <string>
#include <vector>

namespace supra::test {

struct RunLimits {
  double max_seconds = 60;           // killed (SIGKILL) after this
  unsigned long max_file_mb = 4096;  // RLIMIT_FSIZE: a bigger write fails with EFBIG
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
};

struct RunResult {
  int exit_code = -1;    // -1 when killed by a signal
  int signal = 0;        // the signal that ended it, 0 if it exited
  bool timed_out = false;
  double seconds = 0;
  double peak_rss_mb = 0;  // ru_maxrss of the child
  std::string out, err;
};

RunResult run_bounded(const std::vector<std::string>& argv, const RunLimits& limits);

}  // namespace supra::test
