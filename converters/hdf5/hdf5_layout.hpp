#pragma once
// Names and attributes of supra's HDF5 layout (docs/hdf5.md):
//   /            attrs format="supra.tensors", format_version=1, source_format, metadata
//   /tensors/<encoded name>   one dataset per tensor, attrs name + dtype
#include <string>

namespace supra::hdf5 {

inline constexpr const char* kFormatAttr = "format";
inline constexpr const char* kFormatValue = "supra.tensors";
inline constexpr const char* kFormatVersionAttr = "format_version";
inline constexpr const char* kSourceFormatAttr = "source_format";
inline constexpr const char* kFormatMetadataAttr = "format_metadata_json";
inline constexpr const char* kTensorsGroup = "tensors";
inline constexpr const char* kNameAttr = "name";
inline constexpr const char* kDtypeAttr = "dtype";
// Metadata keys that clash with the attrs above are stored under this prefix.
inline constexpr const char* kEscapedMetadataPrefix = "metadata:";

// A tensor name as an HDF5 link name: verbatim unless it holds '/' or is
// "." / ".." / ""; then '%' -> %25, '/' -> %2F, '.' -> %2E.
std::string encode_dataset_name(const std::string& tensor_name);

// True for root attribute names the layout itself uses.
bool is_reserved_root_attr(const std::string& name);

}  // namespace supra::hdf5
