#include "converters/output_transaction.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "schema/error.hpp"

namespace supra {
namespace {

// Temporaries that a signal handler must remove. Fixed storage so the handler
// only touches memory that is always valid (async-signal-safe).
constexpr int kMaxTemps = 4096;
char g_temps[kMaxTemps][1024];
std::atomic<bool> g_temp_live[kMaxTemps];
std::mutex g_temps_mutex;

void on_signal(int sig) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_live[i].load()) ::unlink(g_temps[i]);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int register_temp(const fs::path& p) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_signal);
  });
  const std::string s = p.string();
  if (s.size() >= sizeof(g_temps[0])) return -1;
  std::lock_guard lock(g_temps_mutex);
  for (int i = 0; i < kMaxTemps; ++i) {
    if (!g_temp_live[i].load()) {
      std::memcpy(g_temps[i], s.c_str(), s.size() + 1);
      g_temp_live[i].store(true);
      return i;
    }
  }
  return -1;
}

void unregister_temp(const fs::path& p) {
  std::lock_guard lock(g_temps_mutex);
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_live[i].load() && p.string() == g_temps[i]) g_temp_live[i].store(false);
}

void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void refuse_existing_output(const fs::path& path, bool force) {
  std::error_code ec;
  if (!force && fs::exists(path, ec))
    throw usage_error("usage.exists", path.string() + " already exists (use --force to overwrite)");
}

OutputTransaction::OutputTransaction(fs::path folder, bool force)
    : folder_(folder.empty() ? fs::path(".") : std::move(folder)), force_(force) {
  std::error_code ec;
  if (!fs::exists(folder_, ec)) {
    if (!fs::create_directories(folder_, ec))
      throw io_error("io.mkdir", {folder_.string(), {}, {}}, ec.message());
    created_folder_ = true;
  } else if (!fs::is_directory(folder_, ec)) {
    throw usage_error("usage.output", folder_.string() + " exists and is not a folder");
  }
}

OutputTransaction::~OutputTransaction() {
  if (!committed_) cleanup();
}

fs::path OutputTransaction::reserve(const std::string& name) {
  const fs::path final_path = folder_ / name;
  refuse_existing_output(final_path, force_);
  fs::path temp = folder_ / ("." + fs::path(name).filename().string() + ".supra-tmp-" +
                             std::to_string(::getpid()));
  if (fs::path(name).has_parent_path()) temp = final_path.parent_path() / temp.filename();
  register_temp(temp);
  entries_.push_back({name, temp, -1});
  return temp;
}

int OutputTransaction::create(const std::string& name) {
  const fs::path temp = reserve(name);
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("io.create", {temp.string(), {}, {}}, std::strerror(errno));
  entries_.back().fd = fd;
  return fd;
}

void OutputTransaction::commit() {
  for (auto& e : entries_) {
    if (e.fd >= 0) {
      if (::fsync(e.fd) != 0)
        throw io_error("io.fsync", {e.temp.string(), {}, {}}, std::strerror(errno));
      ::close(e.fd);
      e.fd = -1;
    } else {
      fsync_path(e.temp);
    }
  }
  for (auto& e : entries_) {
    std::error_code ec;
    fs::rename(e.temp, folder_ / e.name, ec);
    if (ec) throw io_error("io.rename", {(folder_ / e.name).string(), {}, {}}, ec.message());
    unregister_temp(e.temp);
  }
  fsync_path(folder_);
  committed_ = true;
}

void OutputTransaction::cleanup() noexcept {
  for (auto& e : entries_) {
    if (e.fd >= 0) ::close(e.fd);
    std::error_code ec;
    fs::remove(e.temp, ec);
    unregister_temp(e.temp);
  }
  if (created_folder_) {
    std::error_code ec;
    fs::remove(folder_, ec);  // only succeeds when empty, as it should
  }
}

}  // namespace supra
