#pragma once
// NumPy writer: OUT.npy for a one-tensor checkpoint, OUT.npz (stored
// members <name>.npy, as np.savez writes) for any number. numpy has no
// bfloat16 or fp8: those are refused (numpy.302) with a hint to cast.
#include <filesystem>

#include "converters/format.hpp"

namespace supra {

WritePlan plan_numpy(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_numpy(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                        OutputTransaction& tx);

}  // namespace supra
