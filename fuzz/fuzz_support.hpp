#pragma once
// What every harness shares: the input written to a file (readers take
// paths), every tensor's bytes pulled after a successful open (lazy reads
// are where offsets bite), and the verdict: a supra::Error is a pass,
// anything else (another exception, a sanitizer report, a crash, a timeout,
// too much memory) a finding. See fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "schema/checkpoint.hpp"

namespace supra::fuzz {

namespace fs = std::filesystem;

// A per-process folder for inputs (in /dev/shm when there is one).
const fs::path& work_dir();
// Writes the input to work_dir()/name and returns the path.
fs::path write_input(const uint8_t* data, size_t size, const std::string& name);
// Reads every tensor in chunks (and its last element alone), and renders the
// checkpoint as `inspect --json` would.
void exercise(const Checkpoint& ckpt);

// Runs `f`; a project error ends the input cleanly, anything else aborts
// with its type and message so libFuzzer records the input.
template <typename F>
int run(F&& f);

[[noreturn]] void report_escape(const char* what, const char* type);

}  // namespace supra::fuzz

#include "schema/error.hpp"

template <typename F>
int supra::fuzz::run(F&& f) {
  try {
    f();
  } catch (const supra::Error&) {
  } catch (const std::exception& e) {
    report_escape(e.what(), typeid(e).name());
  } catch (...) {
    report_escape("(not a std::exception)", "?");
  }
  return 0;
}
