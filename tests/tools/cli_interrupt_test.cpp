// Ctrl-C during `supra convert`: the process dies by SIGINT and leaves no
// file, temporary or final, at the destination (README "Output").
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/converters/safetensors_test_files.hpp"
#include "tests/test_util.hpp"

extern char** environ;

namespace supra {
namespace {

namespace fs = std::filesystem;

// A 256 MiB F32 tensor whose data is a hole in a sparse file: cheap to make,
// but the cast and write take a while.
fs::path write_big_sparse_input(const fs::path& path) {
  const uint64_t n = 64ull << 20;  // elements
  const std::string header = R"({"w":{"dtype":"F32","shape":[)" + std::to_string(n) + R"(],"data_offsets":[0,)" +
                             std::to_string(4 * n) + "]}}";
  test::write_file_bytes(path, test::safetensors_bytes(header));
  fs::resize_file(path, 8 + header.size() + 4 * n);
  return path;
}

pid_t spawn_supra(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_s = {SUPRA_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // The child must see SIGINT with its default disposition, as from a terminal.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

bool has_temporary(const fs::path& dir) {
  for (const auto& name : test::list_dir(dir))
    if (name.find(".supra-tmp-") != std::string::npos) return true;
  return false;
}

// Starts the convert, waits until its temporary output exists, sends SIGINT,
// and returns the wait status.
int interrupt_convert(const std::vector<std::string>& args, const fs::path& watch, const fs::path& log) {
  const pid_t pid = spawn_supra(args, log);
  EXPECT_GT(pid, 0);
  if (pid <= 0) return -1;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool started = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;  // finished before we could interrupt
    if (has_temporary(watch)) {
      started = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(started) << "convert never created its temporary output";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it write some bytes
  ::kill(pid, SIGINT);
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(CliInterrupt, CtrlCLeavesNothingInANewFolder) {
  test::TempDir dir;
  const fs::path in = write_big_sparse_input(dir / "in.safetensors");
  const fs::path out = dir / "out";
  const int status = interrupt_convert({"convert", in.string(), out.string(), "--dtype", "f16", "--threads", "1"},
                                       out, dir / "log");
  ASSERT_TRUE(WIFSIGNALED(status)) << "convert finished (status " << status << ") before SIGINT; make the input bigger";
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  // The folder the convert created is gone again, and nothing else appeared.
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(test::list_dir(dir.path()), (std::vector<std::string>{"in.safetensors", "log"}));
}

TEST(CliInterrupt, CtrlCLeavesAnExistingFolderAsItWas) {
  test::TempDir dir;
  const fs::path in = write_big_sparse_input(dir / "in.safetensors");
  const fs::path out = dir / "dest";
  fs::create_directory(out);
  test::write_file_bytes(out / "notes.txt", {std::byte{'k'}});
  const int status = interrupt_convert(
      {"convert", in.string(), out.string(), "--threads", "2", "--max-shard-size", "100MB", "--dtype", "bf16"}, out,
      dir / "log");
  ASSERT_TRUE(WIFSIGNALED(status)) << "convert finished (status " << status << ") before SIGINT";
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_EQ(test::list_dir(out), std::vector<std::string>{"notes.txt"});
}

}  // namespace
}  // namespace supra
