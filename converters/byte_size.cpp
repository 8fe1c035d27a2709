#include "converters/byte_size.hpp"

#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <utility>

#include "schema/error.hpp"

namespace supra {

uint64_t parse_byte_size(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw usage_error("usage.size", "'" + text + "' is not a size (e.g. 5GB, 500MiB, 1000000)");
  }
  std::string unit;
  for (size_t i = pos; i < text.size(); ++i)
    if (!std::isspace(static_cast<unsigned char>(text[i])))
      unit += char(std::toupper(static_cast<unsigned char>(text[i])));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},          {"B", 1},           {"KB", 1e3},           {"MB", 1e6},
      {"GB", 1e9},      {"TB", 1e12},       {"KIB", 1024.0},       {"MIB", 1048576.0},
      {"GIB", 1073741824.0}, {"TIB", 1099511627776.0}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      const double bytes = value * mult;
      if (!(bytes >= 1) || bytes > 1.8e19)
        throw usage_error("usage.size", "size '" + text + "' is out of range");
      return uint64_t(std::llround(bytes));
    }
  }
  throw usage_error("usage.size", "unknown unit in '" + text + "' (use B, KB, MB, GB, KiB, MiB, GiB)");
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", v, units[u]);
}

}  // namespace supra
