#include "converters/hdf5/hdf5_types.hpp"

#include <cstring>
#include <string>

namespace supra::hdf5 {
namespace {

// A 16-bit IEEE-style float built field by field: libhdf5 1.10 (Debian 12)
// has no predefined H5T_IEEE_F16LE. h5py maps any 2-byte float to float16.
Id make_float16(size_t exponent_bits, size_t mantissa_bits, size_t bias) {
  Id t = type_id(H5Tcopy(H5T_IEEE_F32LE));
  H5Tset_fields(t.get(), 15, mantissa_bits, exponent_bits, 0, mantissa_bits);
  H5Tset_precision(t.get(), 16);
  H5Tset_size(t.get(), 2);
  H5Tset_ebias(t.get(), bias);
  return t;
}

Id copy_of(hid_t predefined) { return type_id(H5Tcopy(predefined)); }

bool has_float_fields(hid_t type, size_t exp_bits, size_t mant_bits, size_t bias) {
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
  return spos == 15 && epos == mant_bits && esize == exp_bits && mpos == 0 && msize == mant_bits &&
         H5Tget_ebias(type) == bias;
}

Id integer_type(size_t size, bool is_signed) {
  switch (size) {
    case 1: return copy_of(is_signed ? H5T_STD_I8LE : H5T_STD_U8LE);
    case 2: return copy_of(is_signed ? H5T_STD_I16LE : H5T_STD_U16LE);
    case 4: return copy_of(is_signed ? H5T_STD_I32LE : H5T_STD_U32LE);
    default: return copy_of(is_signed ? H5T_STD_I64LE : H5T_STD_U64LE);
  }
}

std::optional<DType> integer_dtype(size_t size, bool is_signed) {
  switch (size) {
    case 1: return is_signed ? DType::I8 : DType::U8;
    case 2: return is_signed ? DType::I16 : DType::U16;
    case 4: return is_signed ? DType::I32 : DType::U32;
    case 8: return is_signed ? DType::I64 : DType::U64;
    default: return std::nullopt;
  }
}

}  // namespace

Id storage_type(DType dtype) {
  switch (dtype) {
    case DType::F64: return copy_of(H5T_IEEE_F64LE);
    case DType::F32: return copy_of(H5T_IEEE_F32LE);
    case DType::F16: return make_float16(5, 10, 15);
    case DType::BF16: return copy_of(H5T_STD_U16LE);
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::BOOL:
    case DType::U8: return copy_of(H5T_STD_U8LE);
    case DType::I8: return copy_of(H5T_STD_I8LE);
    case DType::I16: return copy_of(H5T_STD_I16LE);
    case DType::U16: return copy_of(H5T_STD_U16LE);
    case DType::I32: return copy_of(H5T_STD_I32LE);
    case DType::U32: return copy_of(H5T_STD_U32LE);
    case DType::I64: return copy_of(H5T_STD_I64LE);
    case DType::U64: return copy_of(H5T_STD_U64LE);
  }
  return copy_of(H5T_STD_U8LE);
}

bool is_h5py_bool_enum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    if (!name) return false;
    int8_t value = -1;
    const bool ok = H5Tget_member_value(type, i, &value) >= 0;
    const bool match = ok && ((std::strcmp(name, "FALSE") == 0 && value == 0) ||
                              (std::strcmp(name, "TRUE") == 0 && value == 1));
    H5free_memory(name);
    if (!match) return false;
  }
  return true;
}

std::optional<ReadType> read_type_for(hid_t file_type, const std::string& dtype_attr) {
  const H5T_class_t cls = H5Tget_class(file_type);
  const size_t size = H5Tget_size(file_type);
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(file_type) == H5T_SGN_2;
    auto dtype = integer_dtype(size, is_signed);
    if (!dtype) return std::nullopt;
    // Our layout's exact dtype, when the attr names one the bits fit.
    if (auto named = dtype_from_safetensors(dtype_attr); named && dtype_size(*named) == size &&
                                                        !dtype_is_float(*dtype) &&
                                                        (*named == DType::BF16 || *named == DType::BOOL ||
                                                         *named == DType::F8_E4M3 || *named == DType::F8_E5M2))
      dtype = named;
    return ReadType{*dtype, integer_type(size, is_signed)};
  }
  if (cls == H5T_FLOAT) {
    if (size == 8) return ReadType{DType::F64, copy_of(H5T_IEEE_F64LE)};
    if (size == 4) return ReadType{DType::F32, copy_of(H5T_IEEE_F32LE)};
    if (size == 2 && has_float_fields(file_type, 5, 10, 15)) return ReadType{DType::F16, make_float16(5, 10, 15)};
    // A custom bfloat16 type (h5py cannot read it, the C library can).
    if (size == 2 && has_float_fields(file_type, 8, 7, 127)) return ReadType{DType::BF16, make_float16(8, 7, 127)};
    return std::nullopt;
  }
  if (cls == H5T_ENUM && is_h5py_bool_enum(file_type)) {
    // Read the enum as itself: HDF5 converts no enum to integers; its bytes are 0/1.
    return ReadType{DType::BOOL, type_id(H5Tcopy(file_type))};
  }
  if (cls == H5T_ENUM) {
    // Any other integer enum comes through as its integer values, read as
    // itself (no conversion), so only a little-endian base is read as is.
    Id base = type_id(H5Tget_super(file_type));
    if (!base || H5Tget_class(base.get()) != H5T_INTEGER || H5Tget_order(base.get()) != H5T_ORDER_LE)
      return std::nullopt;
    auto dtype = integer_dtype(size, H5Tget_sign(base.get()) == H5T_SGN_2);
    if (!dtype) return std::nullopt;
    return ReadType{*dtype, type_id(H5Tcopy(file_type))};
  }
  return std::nullopt;
}

const char* class_name(H5T_class_t cls) {
  switch (cls) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "vlen";
    case H5T_ARRAY: return "array";
    default: return "unknown class";
  }
}

std::string why_not_a_tensor(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::string size = std::to_string(H5Tget_size(type)) + "-byte";
  switch (cls) {
    case H5T_FLOAT: return "a " + size + " float (long double?) has no supra dtype";
    case H5T_INTEGER: return "a " + size + " integer has no supra dtype";
    case H5T_STRING: return "text is not a tensor";
    case H5T_COMPOUND: return "a compound type (a table of records) is not a tensor";
    case H5T_ENUM: return "an enum whose base is not a little-endian integer";
    case H5T_VLEN: return "variable-length sequences are not tensors";
    case H5T_ARRAY: return "array-typed elements are not read (only plain numbers)";
    case H5T_BITFIELD: return "bitfields are not numbers";
    case H5T_TIME: return "time values are not tensors";
    case H5T_OPAQUE: return "opaque bytes are not tensors";
    case H5T_REFERENCE: return "object references are not tensors";
    default: return "not a tensor type supra reads";
  }
}

}  // namespace supra::hdf5
