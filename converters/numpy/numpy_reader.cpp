#include "converters/numpy/numpy_reader.hpp"

#include <algorithm>

#include "converters/numpy/npy_header.hpp"
#include "converters/zip/deflated_member_source.hpp"
#include "converters/zip/zip_reader.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "schema/strided_tensor_source.hpp"

namespace supra {
namespace fs = std::filesystem;

namespace {

// Column-major strides: what fortran_order=True means.
std::vector<uint64_t> fortran_strides(const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> s(shape.size(), 1);
  for (size_t i = 1; i < shape.size(); ++i) s[i] = s[i - 1] * shape[i - 1];
  return s;
}

// The tensor of an array whose .npy bytes start at `npy_offset`; `npy_size`
// is the .npy's length. `deflated` set = the .npy is that deflated member
// (inflated when read), else it lies in `file` as is.
TensorPtr array_tensor(const std::string& path, const std::string& name, const numpy::NpyHeader& h,
                       std::shared_ptr<const MappedFile> file, const zip::ZipEntry* deflated,
                       uint64_t npy_offset, uint64_t npy_size) {
  TensorInfo info{name, h.dtype, h.shape};
  const uint64_t nbytes = info.nbytes();
  const uint64_t have = npy_size - h.data_offset;
  if (have < nbytes)
    throw bad_input("numpy.107", {path, name, npy_offset + h.data_offset},
                    "array needs " + std::to_string(nbytes) + " bytes of data, " + std::to_string(have) +
                        " are there (truncated)");
  if (have > nbytes)
    throw bad_input("numpy.108", {path, name, npy_offset + h.data_offset + nbytes},
                    std::to_string(have - nbytes) + " bytes after the array data");
  const uint64_t data_at = npy_offset + h.data_offset;
  if (nbytes == 0) return std::make_shared<MemoryTensorSource>(std::move(info), std::vector<std::byte>{});
  const bool strided = h.fortran_order && h.shape.size() > 1;
  if (deflated)
    return std::make_shared<zip::DeflatedMemberTensorSource>(
        std::move(info), file, *deflated, h.data_offset, strided ? fortran_strides(h.shape) : std::vector<uint64_t>{});
  if (!strided) return std::make_shared<FileTensorSource>(std::move(info), file, data_at);
  return std::make_shared<StridedTensorSource>(std::move(info), file, file->bytes().subspan(data_at, nbytes), 0,
                                               fortran_strides(h.shape));
}

// One array of a type supra has no dtype for (scipy.sparse's '|S3' format
// name, a '<U' label array) must not sink the rest of the .npz.
bool skip_unsupported(Checkpoint& ckpt, const std::string& name, const numpy::NpyHeader& h) {
  if (h.unsupported_id.empty()) return false;
  ckpt.skipped.push_back({name, "numpy " + h.descr, h.unsupported_why, h.unsupported_id});
  return true;
}

}  // namespace

Checkpoint read_npy(const fs::path& path) {
  auto file = MappedFile::open(path.string());
  const std::string p = path.string();
  std::vector<std::byte> head(std::min<uint64_t>(file->size(), numpy::kMaxHeaderText + 12));
  file->read_at(0, head);
  const std::string name = path.stem().string();
  const numpy::NpyHeader h = numpy::parse_npy_header(head, p, name, 0);
  Checkpoint ckpt;
  ckpt.format = "numpy";
  ckpt.files.push_back(p);
  ckpt.tensors.push_back(array_tensor(p, name, h, file, nullptr, 0, file->size()));
  return ckpt;
}

Checkpoint read_npz(const fs::path& path) {
  auto file = MappedFile::open(path.string());
  const std::string p = path.string();
  zip::ZipArchive archive(file);
  Checkpoint ckpt;
  ckpt.format = "numpy";
  ckpt.files.push_back(p);
  std::string skipped;
  for (const auto& e : archive.entries()) {
    if (!e.name.ends_with(".npy")) {
      skipped += (skipped.empty() ? "" : ", ") + e.name;
      continue;
    }
    const std::string name = e.name.substr(0, e.name.size() - 4);
    if (e.method == zip::kStored) {
      archive.verify_crc(e);
      std::vector<std::byte> head(std::min<uint64_t>(e.size, numpy::kMaxHeaderText + 12));
      file->read_at(e.data_offset, head);
      const auto h = numpy::parse_npy_header(head, p, name, e.data_offset, /*allow_unsupported=*/true);
      if (skip_unsupported(ckpt, name, h)) continue;
      ckpt.tensors.push_back(array_tensor(p, name, h, file, nullptr, e.data_offset, e.size));
    } else {
      // Only the header is inflated now: the data may be a deflate bomb.
      zip::InflateStream stream(file, e);
      std::vector<std::byte> head(std::min<uint64_t>(e.size, numpy::kMaxHeaderText + 12));
      stream.read(0, head);
      const auto h = numpy::parse_npy_header(head, p, name, e.data_offset, /*allow_unsupported=*/true);
      if (skip_unsupported(ckpt, name, h)) continue;
      ckpt.tensors.push_back(array_tensor(p, name, h, file, &e, 0, e.size));
    }
  }
  if (!skipped.empty()) ckpt.metadata["numpy.skipped"] = skipped;
  if (ckpt.tensors.empty() && ckpt.skipped.empty())
    throw bad_input("numpy.109", {p, {}, {}}, "the .npz holds no .npy members");
  return ckpt;
}

Checkpoint read_numpy(const fs::path& path) {
  std::byte head[6] = {};
  auto file = MappedFile::open(path.string());
  if (file->size() >= 6) file->read_at(0, head);
  if (numpy::has_npy_magic(head)) return read_npy(path);
  return read_npz(path);
}

}  // namespace supra
