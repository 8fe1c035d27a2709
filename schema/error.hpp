#pragma once
// One exception type for everything that can go wrong with a checkpoint.
// It carries a stable id ("safetensors.104"), the file, the tensor and the
// byte offset, so the CLI can print one line a user can act on and scripts
// can match on the id.
//
// Data errors and bugs are kept apart. Anything a file, a flag or the OS can
// cause is a supra::Error thrown where it is detected: bad input (exit 3), a
// refused read or write (exit 4), a bad command line (exit 2); every reader
// turns what its libraries throw (nlohmann's parse and type errors, libhdf5
// failures) into one of these with the file and offset. Anything else that
// reaches main (std::bad_alloc, std::logic_error, a library exception no
// reader translated) is a bug in supra: exit 5, "internal", and the fuzzers
// count it as a finding.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace supra {

// What kind of failure, which decides the exit code (documented in README).
enum class ErrorKind {
  Usage,     // bad flags or arguments        -> exit 2
  BadInput,  // the input file is malformed   -> exit 3
  Io,        // the OS refused a read/write   -> exit 4
  Internal,  // a bug in supra                -> exit 5
};

int exit_code_for(ErrorKind kind);

struct ErrorContext {
  std::string file;                // file name as the user gave it (may be empty)
  std::string tensor;              // tensor name (may be empty)
  std::optional<uint64_t> offset;  // byte offset inside `file`
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string id, ErrorContext where, std::string detail);

  ErrorKind kind() const { return kind_; }
  const std::string& id() const { return id_; }
  const ErrorContext& where() const { return where_; }
  const std::string& detail() const { return detail_; }

 private:
  ErrorKind kind_;
  std::string id_;
  ErrorContext where_;
  std::string detail_;
};

// Shorthands used by readers: `throw bad_input("safetensors.104", {file, tensor, off}, "...")`.
Error bad_input(std::string id, ErrorContext where, std::string detail);
Error io_error(std::string id, ErrorContext where, std::string detail);
Error usage_error(std::string id, std::string detail);

// Formats `[id] file: tensor 'x' at byte N: detail`, leaving out the parts that are empty.
std::string format_error_line(const std::string& id, const ErrorContext& where,
                              const std::string& detail);

}  // namespace supra
