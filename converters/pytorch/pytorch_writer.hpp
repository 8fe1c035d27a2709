#pragma once
// PyTorch writer: a zip .pt as torch.save writes it (archive/data.pkl,
// archive/byteorder, archive/data/<i> 64-byte aligned, archive/version),
// one storage per tensor, that torch.load(weights_only=True) opens in
// PyTorch 1.13. WriteOptions::torch_wrap nests the state dict under a key.
#include <filesystem>

#include "converters/format.hpp"
#include "converters/zip/zip_writer.hpp"

namespace supra {

struct PytorchOutput {
  std::string file_name;
  std::vector<zip::ZipMemberSpec> members;
};

PytorchOutput pytorch_members(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WritePlan plan_pytorch(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options);
WriteReport write_pytorch(const Checkpoint& ckpt, const std::filesystem::path& out, const WriteOptions& options,
                          OutputTransaction& tx);

}  // namespace supra
