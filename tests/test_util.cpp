#include "tests/test_util.hpp"

#include "schema/error.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace supra::test {

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "supra-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CommandResult run_supra(const std::vector<std::string>& args) {
  TempDir io;
  std::string cmd = shell_quote(SUPRA_BINARY);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  // append() rather than operator+ chains: GCC 12 warns falsely (-Wrestrict) on the latter.
  cmd.append(" >").append(shell_quote((io / "out").string()));
  cmd.append(" 2>").append(shell_quote((io / "err").string())).append(" </dev/null");
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(io / "out");
  r.err = slurp(io / "err");
  return r;
}

std::vector<std::byte> read_file_bytes(const fs::path& path) {
  const std::string s = slurp(path);
  std::vector<std::byte> out(s.size());
  std::transform(s.begin(), s.end(), out.begin(), [](char c) { return std::byte(c); });
  return out;
}

void write_file_bytes(const fs::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TensorPtr make_tensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, uint32_t seed) {
  TensorInfo info{name, dtype, std::move(shape)};
  std::vector<std::byte> bytes(info.nbytes());
  std::mt19937 rng(seed);
  if (dtype_is_float(dtype)) {
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> values(info.numel());
    for (auto& v : values) v = normal(rng);
    return make_tensor_from_floats(name, dtype, info.shape, values);
  }
  for (auto& b : bytes) b = std::byte(rng() & (dtype == DType::BOOL ? 1 : 0xff));
  return std::make_shared<MemoryTensorSource>(info, std::move(bytes));
}

TensorPtr make_tensor_from_floats(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                  const std::vector<float>& values) {
  TensorInfo info{name, dtype, std::move(shape)};
  std::vector<std::byte> bytes(info.nbytes());
  CastStats stats;
  cast_elements(DType::F32, reinterpret_cast<const std::byte*>(values.data()), dtype, bytes.data(),
                values.size(), stats);
  return std::make_shared<MemoryTensorSource>(info, std::move(bytes));
}

fs::path fixture_path(const std::string& name) { return fs::path(SUPRA_SOURCE_DIR) / "tests" / "fixtures" / name; }

std::string error_id(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "no error";
}

}  // namespace supra::test
