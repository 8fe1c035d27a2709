// Replays every input of tests/fixtures/regressions/cases.json through the
// supra binary: each once crashed, hung, exhausted memory or escaped as an
// internal error (issue 12 and the fuzzers, see docs/robustness.md). Each
// must now end as the case says, with the documented exit code and error
// id, within the case's time, memory and file-size limits.
//
// SUPRA_REGRESSION_BINARY=<path> replays them against another build (an old
// binary, to see the cases fail without their fixes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/bounded_run.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Case {
  std::string name;  // for the test name
  json spec;
};

fs::path regressions_dir() { return test::fixture_path("regressions"); }

std::vector<Case> load_cases() {
  std::ifstream in(regressions_dir() / "cases.json");
  const json doc = json::parse(in);
  std::vector<Case> cases;
  for (const json& c : doc.at("cases")) {
    std::string name = c.at("input").get<std::string>();
    for (char& ch : name)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    cases.push_back({name, c});
  }
  return cases;
}

std::string binary() {
  const char* other = std::getenv("SUPRA_REGRESSION_BINARY");
  return other && *other ? other : SUPRA_BINARY;
}

// The id of a one-line error "[id] file: ...": the text between the brackets.
std::string error_id(const std::string& err) {
  if (err.empty() || err[0] != '[') return "";
  const size_t end = err.find(']');
  return end == std::string::npos ? "" : err.substr(1, end - 1);
}

std::string expand(std::string arg, const std::string& input, const std::string& out) {
  for (const auto& [key, value] : {std::pair{std::string("{input}"), input}, {std::string("{out}"), out}})
    for (size_t at; (at = arg.find(key)) != std::string::npos;) arg.replace(at, key.size(), value);
  return arg;
}

// A fresh demo model folder with the case's files copied over it.
fs::path demo_model_with(const fs::path& overlay, const test::TempDir& work) {
  const fs::path model = work / "model";
  const auto made = test::run_supra({"demo-model", model.string(), "--dtype", "f32"});
  if (made.exit_code != 0) throw std::runtime_error("demo-model failed: " + made.err);
  for (const auto& e : fs::directory_iterator(overlay))
    fs::copy_file(e.path(), model / e.path().filename(), fs::copy_options::overwrite_existing);
  return model;
}

// gtest prints a parameter in the test's description (and ctest's name).
void PrintTo(const Case& c, std::ostream* os) { *os << c.spec.at("input").get<std::string>(); }

class RegressionInput : public testing::TestWithParam<Case> {};

TEST_P(RegressionInput, EndsCleanlyWithinLimits) {
  const json& c = GetParam().spec;
  test::TempDir work;
  const fs::path out = work / "out";
  fs::create_directory(out);
  fs::path input = regressions_dir() / c.at("input").get<std::string>();
  if (c.value("setup", "") == "demo-model") input = demo_model_with(input, work);

  std::vector<std::string> argv = {binary()};
  const json command = c.value("command", json::array({"inspect", "--stats", "--json", "{input}"}));
  for (const json& a : command) argv.push_back(expand(a.get<std::string>(), input.string(), out.string()));

  test::RunLimits limits;
  limits.max_seconds = c.value("max_seconds", 60.0);
  limits.max_file_mb = c.value("max_file_mb", 4096ul);
  limits.env["TMPDIR"] = work.path().string();
  const json env = c.value("env", json::object());
  for (const auto& [k, v] : env.items()) limits.env[k] = v.get<std::string>();
  // ASan keeps freed memory in a 256 MiB quarantine by default, which would
  // count as resident; a small one keeps the memory figures comparable.
  const char* asan = std::getenv("ASAN_OPTIONS");
  limits.env["ASAN_OPTIONS"] = std::string(asan ? asan : "") + ":quarantine_size_mb=16";
  const test::RunResult r = test::run_bounded(argv, limits);

  SCOPED_TRACE(c.value("finding", "") + "\nstderr: " + r.err.substr(0, 2000));
  EXPECT_FALSE(r.timed_out) << "still running after " << limits.max_seconds << " s";
  ASSERT_EQ(r.signal, 0) << "killed by signal " << r.signal;
  const double max_rss = c.value("max_rss_mb", 1024.0);
  EXPECT_LT(r.peak_rss_mb, max_rss) << "peak resident memory";
  // "expect" is "ok", an error id, a list of ids any of which will do, or
  // "clean": exit 0, or exit 3 with any one-line error (for inputs where
  // which limit ends a runaway library first depends on the build).
  const json expect_json = c.at("expect");
  const std::string expect = expect_json.is_array() ? "" : expect_json.get<std::string>();
  if (expect == "clean") {
    if (r.exit_code == 0) return;
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(error_id(r.err).empty()) << "an [id] error line";
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line";
  } else if (expect == "ok") {
    ASSERT_EQ(r.exit_code, 0);
    if (c.contains("tensors") && command.at(0) == "inspect") {
      EXPECT_EQ(json::parse(r.out).at("tensor_count").get<int>(), c.at("tensors").get<int>());
    }
  } else {
    EXPECT_EQ(r.exit_code, c.value("exit", 3));
    const json ids = expect_json.is_array() ? expect_json : json::array({expect});
    EXPECT_NE(std::find(ids.begin(), ids.end(), error_id(r.err)), ids.end()) << "error id, expected " << ids.dump();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line";
    EXPECT_TRUE(test::list_dir(out).empty()) << "no output left behind";
  }
  for (const auto& name : test::list_dir(work.path()))
    EXPECT_TRUE(name == "out" || name == "model") << "temporary file left in $TMPDIR: " << name;
}

INSTANTIATE_TEST_SUITE_P(Cases, RegressionInput, testing::ValuesIn(load_cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace supra
