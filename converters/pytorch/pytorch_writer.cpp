#include "converters/pytorch/pytorch_writer.hpp"

#include <set>

#include "converters/output_transaction.hpp"
#include "converters/pytorch/state_dict_pickler.hpp"
#include "schema/error.hpp"

namespace supra {
namespace fs = std::filesystem;

namespace {
// Debian's torch 1.13 writes "archive" for buffer saves; readers take the
// folder name from the first member, so any name works.
constexpr const char* kArchive = "archive/";

std::vector<std::byte> text_bytes(const std::string& s) {
  std::vector<std::byte> b(s.size());
  for (size_t i = 0; i < s.size(); ++i) b[i] = std::byte(s[i]);
  return b;
}
}  // namespace

PytorchOutput pytorch_members(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  PytorchOutput result;
  result.file_name = out.filename().string();
  std::vector<pytorch::PickledTensor> pickled;
  std::set<std::string> names;
  for (size_t i = 0; i < ckpt.tensors.size(); ++i) {
    const TensorInfo& info = ckpt.tensors[i]->info();
    if (!names.insert(info.name).second)
      throw bad_input("pytorch.502", {{}, info.name, {}}, "two tensors have this name");
    (void)info.nbytes();
    pickled.push_back({info.name, info.dtype, info.shape, std::to_string(i)});
  }
  const std::string prefix = kArchive;
  result.members.push_back({prefix + "data.pkl", pytorch::pickle_state_dict(pickled, options.torch_wrap, options.torch_epoch), nullptr});
  result.members.push_back({prefix + "byteorder", text_bytes("little"), nullptr});
  for (size_t i = 0; i < ckpt.tensors.size(); ++i)
    result.members.push_back({prefix + "data/" + std::to_string(i), {}, ckpt.tensors[i]});
  result.members.push_back({prefix + "version", text_bytes("3\n"), nullptr});
  return result;
}

WritePlan plan_pytorch(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  PytorchOutput o = pytorch_members(ckpt, out, options);
  return plan_from_byte_plans({zip::layout_zip(o.file_name, o.members, {})}, options.threads);
}

WriteReport write_pytorch(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                          OutputTransaction& tx) {
  PytorchOutput o = pytorch_members(ckpt, out, options);
  const auto crcs = zip::zip_member_crcs(o.members, options.threads);
  WriteReport report;
  write_byte_plans(tx, {zip::layout_zip(o.file_name, o.members, crcs)}, options, report);
  return report;
}

}  // namespace supra
