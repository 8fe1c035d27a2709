#pragma once
// Writes the .stz archive (stz_layout.hpp): tensors cut into blocks that
// worker threads byte-plane and compress in parallel; frames are appended
// in a fixed order, so the output does not depend on the thread count.
#include <filesystem>

#include "converters/format.hpp"

namespace supra {

WritePlan plan_stz(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_stz(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                      OutputTransaction& tx);

}  // namespace supra
