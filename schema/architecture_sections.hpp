#pragma once
// Parsers of the model sections of an architecture table ("forward",
// "hf_config"); parse_architecture (naming_table.cpp) calls them.
#include <nlohmann/json.hpp>
#include <string>

#include "schema/naming_table.hpp"

namespace supra {

// `path` is the JSON pointer of the section inside the table `source`.
void parse_forward_section(const nlohmann::json& j, const std::string& source, const std::string& path, Architecture& a);
void parse_hf_config_section(const nlohmann::json& j, const std::string& source, const std::string& path,
                             Architecture& a);

}  // namespace supra
