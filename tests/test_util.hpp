#pragma once
// Helpers shared by the unit tests: temporary folders, running the CLI,
// building small checkpoints in memory.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"

namespace supra::test {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct CommandResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the built `supra` binary with `args` (shell-quoted here).
CommandResult run_supra(const std::vector<std::string>& args);

std::vector<std::byte> read_file_bytes(const fs::path& path);
void write_file_bytes(const fs::path& path, const std::vector<std::byte>& bytes);
// Files in `dir` (names only, sorted), to check nothing was left behind.
std::vector<std::string> list_dir(const fs::path& dir);

// The id of the supra::Error `f` throws, or "no error".
std::string error_id(const std::function<void()>& f);

// A tensor of `dtype` and `shape` filled with a deterministic pattern.
TensorPtr make_tensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, uint32_t seed = 1);
// A tensor from f32 values converted to `dtype`.
TensorPtr make_tensor_from_floats(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                  const std::vector<float>& values);

fs::path fixture_path(const std::string& name);

}  // namespace supra::test
