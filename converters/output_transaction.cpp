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
std::atomic<bool> g_temp_is_folder[kMaxTemps];  // a folder we created: rmdir once empty
std::mutex g_temps_mutex;

void on_signal(int sig) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_live[i].load() && !g_temp_is_folder[i].load()) ::unlink(g_temps[i]);
  // Folders we created, deepest first whatever their slot order: repeat
  // while some rmdir succeeds (each pass removes at least one level).
  for (bool removed = true; removed;) {
    removed = false;
    for (int i = 0; i < kMaxTemps; ++i)
      if (g_temp_live[i].load() && g_temp_is_folder[i].load() && ::rmdir(g_temps[i]) == 0) {
        g_temp_live[i].store(false);
        removed = true;
      }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int register_temp(const fs::path& p, bool is_folder = false) {
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
      g_temp_is_folder[i].store(is_folder);
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
    // Remember every level we create (deepest first) so a failure or
    // Ctrl-C removes them all again.
    for (fs::path p = fs::absolute(folder_, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      created_folders_.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (const fs::path& p : created_folders_) register_temp(p, true);
    if (!fs::create_directories(folder_, ec)) {
      cleanup();
      throw io_error("io.mkdir", {folder_.string(), {}, {}}, ec.message());
    }
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
  // --force replaces files, never folders: refuse before writing anything
  // rather than fail at the rename with the other files already in place.
  std::error_code ec;
  if (fs::is_directory(final_path, ec))
    throw usage_error("usage.output", final_path.string() + " is a folder; it cannot be overwritten by a file");
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

void OutputTransaction::write_file(const std::string& name, std::string_view bytes) {
  const int fd = create(name);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw io_error("io.write", {(folder_ / name).string(), {}, {}}, n < 0 ? std::strerror(errno) : "short write");
    done += size_t(n);
  }
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
  // All or nothing: if one rename fails, the files this commit already put
  // in place are removed again (the rest are removed as temporaries).
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    std::error_code ec;
    fs::rename(e.temp, folder_ / e.name, ec);
    if (ec) {
      for (size_t k = 0; k < i; ++k) {
        std::error_code ignored;
        fs::remove(folder_ / entries_[k].name, ignored);
      }
      throw io_error("io.rename", {(folder_ / e.name).string(), {}, {}}, ec.message());
    }
    unregister_temp(e.temp);
  }
  fsync_path(folder_);
  for (const fs::path& p : created_folders_) unregister_temp(p);
  committed_ = true;
}

void OutputTransaction::cleanup() noexcept {
  for (auto& e : entries_) {
    if (e.fd >= 0) ::close(e.fd);
    std::error_code ec;
    fs::remove(e.temp, ec);
    unregister_temp(e.temp);
  }
  for (const fs::path& p : created_folders_) {
    std::error_code ec;
    fs::remove(p, ec);  // only succeeds when empty, as it should
    unregister_temp(p);
  }
  created_folders_.clear();
}

}  // namespace supra
