#include "converters/hdf5/hdf5_writer.hpp"

#include <algorithm>
#include <set>

#include "converters/hdf5/hdf5_handle.hpp"
#include "converters/hdf5/hdf5_layout.hpp"
#include "converters/hdf5/hdf5_types.hpp"
#include "converters/hdf5/hyperslab_boxes.hpp"
#include "converters/byte_plan_writer.hpp"
#include "converters/output_transaction.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using namespace hdf5;


// Write failures are I/O errors (disk full, permissions), not bad input.
void check_io(herr_t status, const std::string& file, const std::string& tensor, const std::string& what) {
  if (status < 0) {
    const std::string why = last_error_message();
    throw io_error("hdf5.303", {file, tensor, {}}, what + (why.empty() ? "" : ": " + why));
  }
}

Id checked_io(hid_t id, Id::Closer closer, const std::string& file, const std::string& tensor,
              const std::string& what) {
  if (id < 0) check_io(-1, file, tensor, what);
  return Id(id, closer);
}

void write_string_attr(hid_t loc, const std::string& name, const std::string& value, const std::string& file) {
  // Variable-length UTF-8: h5py returns `str`, and no 64 KiB header limit applies.
  Id type = type_id(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Id space = space_id(H5Screate(H5S_SCALAR));
  Id attr = checked_io(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                       H5Aclose, file, {}, "cannot create attribute '" + name + "'");
  const char* ptr = value.c_str();
  check_io(H5Awrite(attr.get(), type.get(), &ptr), file, {}, "cannot write attribute '" + name + "'");
}

void write_i64_attr(hid_t loc, const std::string& name, int64_t value, const std::string& file) {
  Id space = space_id(H5Screate(H5S_SCALAR));
  Id attr = checked_io(H5Acreate2(loc, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                       H5Aclose, file, {}, "cannot create attribute '" + name + "'");
  check_io(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), file, {}, "cannot write attribute '" + name + "'");
}

void write_root_attrs(hid_t root, const Checkpoint& ckpt, const std::string& file) {
  write_string_attr(root, kFormatAttr, kFormatValue, file);
  write_i64_attr(root, kFormatVersionAttr, 1, file);
  write_string_attr(root, kSourceFormatAttr, ckpt.format, file);
  if (!ckpt.format_metadata.empty()) write_string_attr(root, kFormatMetadataAttr, ckpt.format_metadata.dump(), file);
  for (const auto& [key, value] : ckpt.metadata) {
    const bool escape = key.empty() || is_reserved_root_attr(key);
    write_string_attr(root, escape ? kEscapedMetadataPrefix + key : key, value, file);
  }
}

void write_tensor(hid_t group, const TensorSource& src, const std::string& file, const WriteOptions& options,
                  CastStats& stats, std::vector<std::byte>& buffer) {
  const TensorInfo& info = src.info();
  if (info.shape.size() > H5S_MAX_RANK)
    throw bad_input("hdf5.305", {file, info.name, {}}, "rank " + std::to_string(info.shape.size()) +
                                                           " exceeds HDF5's limit of 32 dimensions");
  const std::vector<hsize_t> dims(info.shape.begin(), info.shape.end());
  Id space = space_id(info.shape.empty() ? H5Screate(H5S_SCALAR)
                                         : H5Screate_simple(int(dims.size()), dims.data(), nullptr));
  Id type = storage_type(info.dtype);
  Id dcpl = plist_id(H5Pcreate(H5P_DATASET_CREATE));
  // Contiguous (the default) and never pre-filled: every byte is written below.
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  const std::string link = encode_dataset_name(info.name);
  Id dset = checked_io(H5Dcreate2(group, link.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       H5Dclose, file, info.name, "cannot create dataset");
  write_string_attr(dset.get(), kNameAttr, info.name, file);
  write_string_attr(dset.get(), kDtypeAttr, std::string(dtype_name(info.dtype)), file);

  const uint64_t total = info.nbytes();
  if (total == 0) return;
  const uint64_t elem = dtype_size(info.dtype);
  const uint64_t chunk_elems = std::max<uint64_t>(1, kStreamChunkBytes / elem);
  const uint64_t numel = info.numel();
  buffer.resize(size_t(std::min(chunk_elems, numel) * elem));
  for (uint64_t first = 0; first < numel;) {
    const uint64_t end = std::min(numel, first + chunk_elems);
    std::span<std::byte> bytes(buffer.data(), size_t((end - first) * elem));
    src.read(first * elem, bytes, &stats);
    if (info.shape.empty()) {
      check_io(H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), file, info.name,
               "cannot write dataset");
    } else {
      for (const HyperslabBox& box : hyperslab_boxes(info.shape, first, end)) {
        const std::vector<hsize_t> start(box.start.begin(), box.start.end()), count(box.count.begin(), box.count.end());
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
        const hsize_t n = box.numel;
        Id memory = space_id(H5Screate_simple(1, &n, nullptr));
        check_io(H5Dwrite(dset.get(), type.get(), memory.get(), space.get(), H5P_DEFAULT,
                          bytes.data() + (box.first - first) * elem),
                 file, info.name, "cannot write dataset");
      }
    }
    if (options.on_bytes) options.on_bytes(bytes.size());
    first = end;
  }
}

void check_names(const Checkpoint& ckpt) {
  std::set<std::string> seen;
  for (const auto& t : ckpt.tensors)
    if (!seen.insert(encode_dataset_name(t->name())).second)
      throw bad_input("hdf5.302", {{}, t->name(), {}}, "two tensors have this name");
}

}  // namespace

WritePlan plan_hdf5(const Checkpoint& ckpt, const fs::path& out, const WriteOptions&) {
  check_names(ckpt);
  const std::string file_name = out.filename().string();
  WritePlan plan;
  plan.files.push_back(file_name);
  for (const auto& t : ckpt.tensors) {
    const TensorInfo& info = t->info();
    // libhdf5 decides offsets while writing: 0 stands for "not known in advance".
    plan.tensors.push_back({info.name, info.dtype, info.shape, info.nbytes(), file_name, 0});
    plan.payload_bytes += info.nbytes();
  }
  // Object headers and attributes: about 1 KiB per dataset plus the superblock.
  plan.output_bytes = plan.payload_bytes + 4096 + 1024 * ckpt.tensors.size();
  plan.peak_memory_bytes = 2 * kStreamChunkBytes;  // one chunk + a cast's input chunk
  return plan;
}

WriteReport write_hdf5(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                       OutputTransaction& tx) {
  init_library();
  check_names(ckpt);
  const std::string file_name = out.filename().string();
  const fs::path temp = tx.reserve(file_name);
  WriteReport report;
  {
    Id fapl = plist_id(H5Pcreate(H5P_FILE_ACCESS));
    // Low bound 1.8: new enough for creation-order links, old enough for every reader.
    H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    Id file = checked_io(H5Fcreate(temp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose,
                         file_name, {}, "cannot create HDF5 file");
    write_root_attrs(file.get(), ckpt, file_name);
    Id gcpl = plist_id(H5Pcreate(H5P_GROUP_CREATE));
    // Readers list tensors in the order they were written, not sorted by name.
    H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    Id group = checked_io(H5Gcreate2(file.get(), kTensorsGroup, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose,
                          file_name, {}, "cannot create group /tensors");
    std::vector<std::byte> buffer;
    for (const auto& t : ckpt.tensors) {
      CastStats stats;
      write_tensor(group.get(), *t, file_name, options, stats, buffer);
      if (stats.overflow || stats.underflow) report.cast_stats[t->name()].add(stats);
    }
    group.close();
    if (!file.close()) check_io(-1, file_name, {}, "cannot finish the HDF5 file");
  }
  std::error_code ec;
  report.bytes_written = fs::file_size(temp, ec);
  return report;
}

}  // namespace supra
