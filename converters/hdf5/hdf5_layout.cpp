#include "converters/hdf5/hdf5_layout.hpp"

namespace supra::hdf5 {

std::string encode_dataset_name(const std::string& tensor_name) {
  const bool dots_only = tensor_name.find_first_not_of('.') == std::string::npos;  // "", ".", ".."
  if (tensor_name.find('/') == std::string::npos && !dots_only) return tensor_name;
  if (tensor_name.empty()) return "%00";
  std::string out;
  for (char c : tensor_name) {
    if (c == '%') out += "%25";
    else if (c == '/') out += "%2F";
    else if (c == '.' && dots_only) out += "%2E";
    else out += c;
  }
  return out;
}

bool is_reserved_root_attr(const std::string& name) {
  return name == kFormatAttr || name == kFormatVersionAttr || name == kSourceFormatAttr ||
         name == kFormatMetadataAttr || name.rfind(kEscapedMetadataPrefix, 0) == 0;
}

}  // namespace supra::hdf5
