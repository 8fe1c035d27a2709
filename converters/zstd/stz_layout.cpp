#include "converters/zstd/stz_layout.hpp"

namespace supra::stz {

bool uses_byte_planes(DType dtype) {
  const size_t size = dtype_size(dtype);
  return dtype_is_float(dtype) && (size == 2 || size == 4 || size == 8);
}

}  // namespace supra::stz
