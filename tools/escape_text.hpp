#pragma once
// Text for one line of a terminal table: newline, tab, CR and other control
// characters are written as escapes, so a name or value can never fake a row.
#include <string>

namespace supra::cli {

std::string escape_control_chars(const std::string& text);

}  // namespace supra::cli
