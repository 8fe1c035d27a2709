#include "schema/error.hpp"

#include <fmt/format.h>

namespace supra {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return 2;
    case ErrorKind::BadInput: return 3;
    case ErrorKind::Io: return 4;
    case ErrorKind::Internal: return 5;
  }
  return 5;
}

std::string format_error_line(const std::string& id, const ErrorContext& where,
                              const std::string& detail) {
  std::string line = fmt::format("[{}] ", id);
  if (!where.file.empty()) line += where.file + ": ";
  if (!where.tensor.empty()) line += fmt::format("tensor '{}' ", where.tensor);
  if (where.offset) line += fmt::format("at byte {}", *where.offset);
  if (!where.tensor.empty() || where.offset) {
    if (line.back() == ' ') line.pop_back();
    line += ": ";
  }
  line += detail;
  return line;
}

Error::Error(ErrorKind kind, std::string id, ErrorContext where, std::string detail)
    : std::runtime_error(format_error_line(id, where, detail)),
      kind_(kind),
      id_(std::move(id)),
      where_(std::move(where)),
      detail_(std::move(detail)) {}

Error bad_input(std::string id, ErrorContext where, std::string detail) {
  return Error(ErrorKind::BadInput, std::move(id), std::move(where), std::move(detail));
}
Error io_error(std::string id, ErrorContext where, std::string detail) {
  return Error(ErrorKind::Io, std::move(id), std::move(where), std::move(detail));
}
Error usage_error(std::string id, std::string detail) {
  return Error(ErrorKind::Usage, std::move(id), {}, std::move(detail));
}

}  // namespace supra
