#pragma once
// Which HDF5 datatype holds each supra dtype, and the reverse for files
// written by others (docs/hdf5.md): F16 as IEEE half (h5py reads
// float16), BF16 as raw uint16 bits + attr dtype="BF16" (HDF5 < 2.0 has no
// bfloat16 that h5py understands), BOOL and FP8 as uint8 + attr dtype.
#include <optional>
#include <string>

#include "converters/hdf5/hdf5_handle.hpp"
#include "schema/dtype.hpp"

namespace supra::hdf5 {

// The little-endian HDF5 type a tensor of `dtype` is stored as (a new id).
Id storage_type(DType dtype);

// What an HDF5 dataset type holds, as far as supra can tell from the type
// alone: a dtype plus the in-memory type to read it with (little-endian, no
// conversion when the file already stores it so).
struct ReadType {
  DType dtype;
  Id memory_type;
};
// nullopt for types that are not numbers (strings, compounds, ...).
// `dtype_attr` is the dataset's "dtype" attribute in our layout (may be empty):
// it turns uint16 into BF16, uint8 into BOOL / FP8.
std::optional<ReadType> read_type_for(hid_t file_type, const std::string& dtype_attr);

// True for h5py's numpy-bool enum (int8 base, members FALSE=0, TRUE=1).
bool is_h5py_bool_enum(hid_t type);

// The datatype class by its HDF5 name: "compound", "enum", "vlen", ...
const char* class_name(H5T_class_t cls);
// Why a dataset of this type (read_type_for gave nullopt) is no tensor, for
// the skip warning: "a compound (table) type is not a tensor".
std::string why_not_a_tensor(hid_t type);

}  // namespace supra::hdf5
