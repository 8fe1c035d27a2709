#pragma once
// NumPy reader: a .npy file is one tensor (named after the file stem); an
// .npz is a zip of <name>.npy members (stored or deflated), one tensor each.
// Stored C-order data is read in place; Fortran-order arrays are gathered.
#include <filesystem>

#include "schema/checkpoint.hpp"

namespace supra {

Checkpoint read_npy(const std::filesystem::path& path);
Checkpoint read_npz(const std::filesystem::path& path);
Checkpoint read_numpy(const std::filesystem::path& path);

}  // namespace supra
