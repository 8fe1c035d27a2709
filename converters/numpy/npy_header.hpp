#pragma once
// The .npy header (numpy/lib/format.py): magic "\x93NUMPY", version, a
// length, and a Python dict literal {'descr', 'fortran_order', 'shape'}
// padded so the data starts on a 64-byte boundary.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "schema/dtype.hpp"

namespace supra::numpy {

inline constexpr uint64_t kMaxHeaderText = 10000;  // numpy's _MAX_HEADER_SIZE

struct NpyHeader {
  DType dtype = DType::F32;
  bool fortran_order = false;
  std::vector<uint64_t> shape;
  uint64_t data_offset = 0;  // bytes from the start of the .npy to the data
  std::string descr;         // numpy's type string ('<f4'; a structured list as text)
  // Set when `descr` is no supra dtype (strings, float128, ...): the error id
  // and message; `dtype` is then meaningless.
  std::string unsupported_id, unsupported_why;
};

// Parses the header at the start of `bytes` (which may hold more). `file`,
// `tensor` and `base` (offset of `bytes` in the file) go into error messages.
// Throws numpy.1xx; an unsupported dtype (numpy.105/106) only without
// `allow_unsupported`, else it is said in unsupported_id/_why.
NpyHeader parse_npy_header(std::span<const std::byte> bytes, const std::string& file, const std::string& tensor,
                           uint64_t base, bool allow_unsupported = false);

// The header bytes numpy's np.save writes for this dtype and shape (C order).
// Throws numpy.302 for dtypes numpy has no type for (bf16, fp8).
std::vector<std::byte> make_npy_header(DType dtype, const std::vector<uint64_t>& shape, const std::string& tensor);

bool has_npy_magic(std::span<const std::byte> head);

}  // namespace supra::numpy
