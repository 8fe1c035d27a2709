#include "converters/hub/hub_cache.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "schema/error.hpp"

namespace supra {
namespace fs = std::filesystem;

namespace {

bool is_hub_cache_repo(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path / "snapshots", ec) &&
         (fs::is_directory(path / "refs", ec) || fs::is_directory(path / "blobs", ec));
}

std::vector<std::string> snapshot_names(const fs::path& repo) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(repo / "snapshots", ec))
    if (e.is_directory(ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string listing(const fs::path& repo, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += "\n  " + (repo / "snapshots" / n).string();
  return out;
}

// The commit refs/main holds: one line, a plain folder name.
std::string read_main_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line, '\n');
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

fs::path resolve_hub_cache_repo(const fs::path& path) {
  if (!is_hub_cache_repo(path)) return path;
  const std::vector<std::string> snapshots = snapshot_names(path);
  const std::string where = path.string();
  if (snapshots.empty())
    throw bad_input("hub.103", {where, {}, {}}, "Hugging Face cache folder with no snapshot in snapshots/");
  std::error_code ec;
  const fs::path ref = path / "refs" / "main";
  if (fs::is_regular_file(ref, ec)) {
    const std::string commit = read_main_ref(ref);
    const bool plain = !commit.empty() && commit != "." && commit != ".." && commit.find('/') == std::string::npos;
    if (plain && std::find(snapshots.begin(), snapshots.end(), commit) != snapshots.end())
      return path / "snapshots" / commit;
    throw bad_input("hub.101", {where, {}, {}},
                    "refs/main names snapshot '" + commit + "', which is not in snapshots/; give one of:" +
                        listing(path, snapshots));
  }
  if (snapshots.size() == 1) return path / "snapshots" / snapshots.front();
  throw bad_input("hub.102", {where, {}, {}},
                  "Hugging Face cache folder without refs/main and with " + std::to_string(snapshots.size()) +
                      " snapshots; give one of:" + listing(path, snapshots));
}

}  // namespace supra
