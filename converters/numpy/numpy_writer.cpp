#include "converters/numpy/numpy_writer.hpp"

#include <set>

#include "converters/byte_plan_writer.hpp"
#include "converters/numpy/npy_header.hpp"
#include "converters/output_transaction.hpp"
#include "converters/zip/zip_writer.hpp"
#include "schema/error.hpp"

namespace supra {
namespace fs = std::filesystem;

namespace {


FileBytePlan npy_layout(const Checkpoint& ckpt, const fs::path& out) {
  if (ckpt.tensors.size() != 1)
    throw usage_error("numpy.301", "a .npy file holds one array; this checkpoint has " +
                                       std::to_string(ckpt.tensors.size()) + " tensors: write a .npz instead");
  const TensorPtr& t = ckpt.tensors.front();
  FileBytePlan f;
  f.name = out.filename().string();
  f.header = numpy::make_npy_header(t->info().dtype, t->info().shape, t->name());
  f.tensors.push_back({t, f.header.size()});
  f.size = f.header.size() + t->info().nbytes();
  return f;
}

std::vector<zip::ZipMemberSpec> npz_members(const Checkpoint& ckpt) {
  std::vector<zip::ZipMemberSpec> members;
  std::set<std::string> names;
  for (const auto& t : ckpt.tensors) {
    if (!names.insert(t->name()).second)
      throw bad_input("numpy.303", {{}, t->name(), {}}, "two tensors have this name");
    members.push_back({t->name() + ".npy", numpy::make_npy_header(t->info().dtype, t->info().shape, t->name()), t});
  }
  return members;
}

bool is_npy(const fs::path& out) { return out.extension() == ".npy"; }

}  // namespace

WritePlan plan_numpy(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  if (is_npy(out)) return plan_from_byte_plans({npy_layout(ckpt, out)}, options.threads);
  return plan_from_byte_plans({zip::layout_zip(out.filename().string(), npz_members(ckpt), {})}, options.threads);
}

WriteReport write_numpy(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                        OutputTransaction& tx) {
  std::vector<FileBytePlan> files;
  if (is_npy(out)) {
    files.push_back(npy_layout(ckpt, out));
  } else {
    const std::vector<zip::ZipMemberSpec> members = npz_members(ckpt);
    files.push_back(zip::layout_zip(out.filename().string(), members, zip::zip_member_crcs(members, options.threads)));
  }
  WriteReport report;
  write_byte_plans(tx, files, options, report);
  return report;
}

}  // namespace supra
