#include "converters/hdf5/hdf5_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "converters/hdf5/hdf5_handle.hpp"
#include "converters/hdf5/hdf5_layout.hpp"
#include "converters/hdf5/hdf5_types.hpp"
#include "converters/hdf5/hyperslab_boxes.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using namespace hdf5;

// No tensor is this large; a shape that claims more is corrupt or hostile.
constexpr uint64_t kMaxTensorBytes = 1ull << 50;   // 1 PiB
constexpr uint64_t kMaxAttrBytes = 64ull << 20;    // strings we turn into metadata
constexpr int kMaxGroupDepth = 64;

// A dataset read through libhdf5: chunked, compressed, or stored in a type
// that needs conversion. Each read selects the hyperslabs of the range.
class Hdf5DatasetSource final : public TensorSource {
 public:
  Hdf5DatasetSource(TensorInfo info, Id file, Id dataset, Id memory_type, std::string path)
      : TensorSource(std::move(info)), file_(std::move(file)), dataset_(std::move(dataset)),
        memory_type_(std::move(memory_type)), path_(std::move(path)) {}

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const override {
    init_library();  // this thread's error printing off too
    const TensorInfo& inf = info();
    const uint64_t elem = dtype_size(inf.dtype);
    const ErrorContext where{path_, inf.name, {}};
    if (inf.shape.empty()) {
      check(H5Dread(dataset_.get(), memory_type_.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "hdf5.110",
            where, "cannot read dataset");
      return;
    }
    Id space = checked(H5Dget_space(dataset_.get()), H5Sclose, "hdf5.110", where, "cannot read dataset");
    const uint64_t first = offset / elem;
    for (const HyperslabBox& box : hyperslab_boxes(inf.shape, first, first + out.size() / elem)) {
      const std::vector<hsize_t> start(box.start.begin(), box.start.end()), count(box.count.begin(), box.count.end());
      check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
            "hdf5.110", where, "cannot select a hyperslab");
      const hsize_t n = box.numel;
      Id memory = space_id(H5Screate_simple(1, &n, nullptr));
      check(H5Dread(dataset_.get(), memory_type_.get(), memory.get(), space.get(), H5P_DEFAULT,
                    out.data() + (box.first - first) * elem),
            "hdf5.110", where, "cannot read dataset (corrupt chunk or missing filter?)");
    }
  }

  Id file_;  // keeps the file open while the source lives
  Id dataset_;
  Id memory_type_;
  std::string path_;
};

// Registered ids of the filter plugins people meet (HDF Group's filter list).
std::string known_filter_name(H5Z_filter_t id) {
  switch (id) {
    case 307: return "bzip2";
    case 32000: return "lzf";
    case 32001: return "blosc";
    case 32004: return "lz4";
    case 32008: return "bitshuffle";
    case 32013: return "zfp";
    case 32015: return "zstd";
    case 32026: return "blosc2";
    default: return "filter";
  }
}

std::string strip_fixed_string(const char* data, size_t size, H5T_str_t pad) {
  std::string s(data, size);
  if (pad == H5T_STR_SPACEPAD) {
    s.erase(s.find_last_not_of(' ') + 1);
  } else if (auto nul = s.find('\0'); nul != std::string::npos) {
    s.resize(nul);  // NULLTERM and NULLPAD both end at the first NUL
  }
  return s;
}

// Reads string attributes (scalar or 1-D array, fixed or variable length)
// and numeric scalars as text; nullopt for anything else.
std::optional<std::string> attr_as_string(hid_t attr) {
  Id type = type_id(H5Aget_type(attr));
  Id space = space_id(H5Aget_space(attr));
  if (!type || !space) return std::nullopt;
  const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (count < 1 || rank > 1 || space_class == H5S_NULL) return std::nullopt;
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) {
    std::vector<std::string> values;
    if (H5Tis_variable_str(type.get()) > 0) {
      if (uint64_t(count) > kMaxAttrBytes / sizeof(char*)) return std::nullopt;
      Id memory = type_id(H5Tcopy(H5T_C_S1));
      H5Tset_size(memory.get(), H5T_VARIABLE);
      H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
      std::vector<char*> ptrs(size_t(count), nullptr);
      if (H5Aread(attr, memory.get(), ptrs.data()) < 0) return std::nullopt;
      for (char* p : ptrs) values.emplace_back(p ? p : "");
      H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, ptrs.data());
    } else {
      const size_t size = H5Tget_size(type.get());
      if (size == 0 || uint64_t(count) > kMaxAttrBytes / size) return std::nullopt;
      std::vector<char> buffer(size * size_t(count));
      if (H5Aread(attr, type.get(), buffer.data()) < 0) return std::nullopt;
      const H5T_str_t pad = H5Tget_strpad(type.get());
      for (hssize_t i = 0; i < count; ++i) values.push_back(strip_fixed_string(buffer.data() + size * size_t(i), size, pad));
    }
    if (rank == 0) return values.front();
    return nlohmann::json(values).dump();  // e.g. Keras layer_names
  }
  if (rank != 0) return std::nullopt;
  if (cls == H5T_INTEGER) {
    int64_t v = 0;
    if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) return std::nullopt;
    return std::to_string(v);
  }
  if (cls == H5T_FLOAT) {
    double v = 0;
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
    return nlohmann::json(v).dump();
  }
  return std::nullopt;
}

std::optional<std::string> string_attr(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  Id attr = attr_id(H5Aopen(object, name, H5P_DEFAULT));
  if (!attr) return std::nullopt;
  Id type = type_id(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  return attr_as_string(attr.get());
}

// The first filter of a dataset's pipeline that this libhdf5 cannot run
// (a plugin such as Blosc that is not installed), said by name and id.
std::optional<std::string> missing_filter(hid_t dcpl) {
  const int n = H5Pget_nfilters(dcpl);
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, config = 0;
    size_t cd_count = 0;
    char name[64] = {};
    const H5Z_filter_t id = H5Pget_filter2(dcpl, unsigned(i), &flags, &cd_count, nullptr, sizeof(name), name, &config);
    if (id < 0 || H5Zfilter_avail(id) > 0) continue;
    std::string label = name;
    if (label.empty()) label = known_filter_name(id);
    return "filter '" + label + "' (" + std::to_string(id) + ") is not available (no HDF5 plugin for it is installed)";
  }
  return std::nullopt;
}

struct RootAttrs {
  std::vector<std::pair<std::string, std::string>> values;  // in storage order
};

herr_t collect_attr(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<RootAttrs*>(data);
  Id attr = attr_id(H5Aopen(location, name, H5P_DEFAULT));
  if (!attr) return 0;
  if (auto text = attr_as_string(attr.get())) out->values.emplace_back(name, *text);
  return 0;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t* info, void* data) {
  if (info->type == H5L_TYPE_HARD) static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;  // soft and external links are skipped: they could loop or leave the file
}

struct Walker {
  std::string path;  // the file, for messages
  Id file;
  bool ours = false;
  std::shared_ptr<const MappedFile> mapped;
  uint64_t file_size = 0;
  std::set<haddr_t> visited;
  std::set<std::string> names;
  std::vector<TensorPtr> tensors;
  std::vector<SkippedEntry> skipped;

  const std::shared_ptr<const MappedFile>& mapped_file() {
    if (!mapped) mapped = MappedFile::open(path);
    return mapped;
  }

  void walk_group(hid_t group, const std::string& prefix, int depth) {
    if (depth > kMaxGroupDepth)
      throw bad_input("hdf5.102", {path, prefix, {}}, "groups nest deeper than 64 levels");
    // Creation order where the file tracks it (ours does), names otherwise.
    H5_index_t index = H5_INDEX_NAME;
    {
      Id gcpl = plist_id(H5Gget_create_plist(group));
      unsigned flags = 0;
      if (gcpl && H5Pget_link_creation_order(gcpl.get(), &flags) >= 0 && (flags & H5P_CRT_ORDER_INDEXED))
        index = H5_INDEX_CRT_ORDER;
    }
    std::vector<std::string> links;
    hsize_t idx = 0;
    check(H5Literate(group, index, H5_ITER_INC, &idx, collect_link, &links), "hdf5.102",
          {path, prefix, {}}, "cannot list group '/" + prefix + "'");
    for (const std::string& link : links) {
      const std::string full = prefix.empty() ? link : prefix + "/" + link;
      H5O_info_t info;
      check(H5Oget_info_by_name2(group, link.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), "hdf5.102",
            {path, full, {}}, "cannot read object '/" + full + "'");
      if (!visited.insert(info.addr).second) continue;  // hard-linked twice: read once
      if (info.type == H5O_TYPE_GROUP) {
        Id child = checked(H5Gopen2(group, link.c_str(), H5P_DEFAULT), H5Gclose, "hdf5.102", {path, full, {}},
                           "cannot open group '/" + full + "'");
        walk_group(child.get(), full, depth + 1);
      } else if (info.type == H5O_TYPE_DATASET) {
        add_dataset(group, link, full);
      }
    }
  }

  void add_dataset(hid_t group, const std::string& link, const std::string& full) {
    Id dset = checked(H5Dopen2(group, link.c_str(), H5P_DEFAULT), H5Dclose, "hdf5.104", {path, full, {}},
                      "cannot open dataset");
    Id type = checked(H5Dget_type(dset.get()), H5Tclose, "hdf5.104", {path, full, {}}, "cannot read its type");
    std::string name = full, dtype_attr;
    if (ours) {
      if (auto n = string_attr(dset.get(), kNameAttr)) name = *n;
      if (auto d = string_attr(dset.get(), kDtypeAttr)) dtype_attr = *d;
    }
    auto read_type = read_type_for(type.get(), dtype_attr);
    const std::string type_text = std::string("HDF5 ") + class_name(H5Tget_class(type.get())) + ", " +
                                  std::to_string(H5Tget_size(type.get())) + " bytes";
    if (!read_type) {  // one dataset that is no tensor must not sink the file
      skipped.push_back({name, type_text, why_not_a_tensor(type.get()), "hdf5.105"});
      return;
    }

    Id space = checked(H5Dget_space(dset.get()), H5Sclose, "hdf5.104", {path, name, {}}, "cannot read its shape");
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_NULL) return;  // no data at all
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK)
      throw bad_input("hdf5.106", {path, name, {}}, "dataspace has an invalid rank");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
      throw bad_input("hdf5.106", {path, name, {}}, "cannot read the dataspace dimensions");
    TensorInfo info{name, read_type->dtype, std::vector<uint64_t>(dims.begin(), dims.end())};
    uint64_t nbytes = dtype_size(info.dtype);
    for (uint64_t d : info.shape)
      if (__builtin_mul_overflow(nbytes, d, &nbytes) || nbytes > kMaxTensorBytes)
        throw bad_input("hdf5.106", {path, name, {}},
                        "shape " + info.shape_string() + " is absurd (more than 1 PiB or overflows 64 bits)");
    if (!names.insert(name).second)
      throw bad_input("hdf5.108", {path, name, {}}, "two datasets carry this tensor name");

    Id dcpl = checked(H5Dget_create_plist(dset.get()), H5Pclose, "hdf5.104", {path, name, {}},
                      "cannot read its storage properties");
    if (auto missing = missing_filter(dcpl.get())) {
      skipped.push_back({name, type_text, *missing, "hdf5.114"});
      return;
    }
    const bool contiguous = H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl.get()) == 0;
    const haddr_t offset = contiguous ? H5Dget_offset(dset.get()) : HADDR_UNDEF;
    if (offset != HADDR_UNDEF && (offset > file_size || nbytes > file_size - offset))
      throw bad_input("hdf5.107", {path, name, uint64_t(offset)},
                      "data of " + std::to_string(nbytes) + " bytes runs past the end of the " +
                          std::to_string(file_size) + "-byte file (truncated?)");
    if (offset != HADDR_UNDEF && H5Tequal(type.get(), read_type->memory_type.get()) > 0) {
      // Stored exactly as supra holds it: a view into the file, no copy.
      tensors.push_back(std::make_shared<FileTensorSource>(std::move(info), mapped_file(), uint64_t(offset)));
      return;
    }
    tensors.push_back(std::make_shared<Hdf5DatasetSource>(std::move(info), file, std::move(dset),
                                                          std::move(read_type->memory_type), path));
  }
};

}  // namespace

bool has_hdf5_signature(const fs::path& path, std::span<const std::byte> head) {
  static constexpr unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  auto matches = [](const std::byte* p) { return std::memcmp(p, kSignature, 8) == 0; };
  for (uint64_t at = 0; at + 8 <= head.size(); at = at ? at * 2 : 512)
    if (matches(head.data() + at)) return true;
  if (head.size() < 4096) return false;
  // A user block larger than the head: look further into the file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool found = false;
  std::byte buffer[8];
  for (uint64_t at = 4096; at <= (1ull << 30) && !found; at *= 2) {
    if (::pread(fd, buffer, 8, off_t(at)) != 8) break;
    found = matches(buffer);
  }
  ::close(fd);
  return found;
}

Checkpoint read_hdf5_in_this_process(const fs::path& path) {
  init_library();
  Walker walker;
  walker.path = path.string();
  std::error_code ec;
  walker.file_size = fs::file_size(path, ec);
  if (ec) throw io_error("io.open", {walker.path, {}, {}}, ec.message());
  walker.file = checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "hdf5.101",
                        {walker.path, {}, {}}, "not a readable HDF5 file (truncated or corrupt?)");

  Checkpoint ckpt;
  ckpt.format = "hdf5";
  ckpt.files.push_back(walker.path);
  RootAttrs root;
  hsize_t idx = 0;
  H5Aiterate2(walker.file.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &root);
  for (const auto& [k, v] : root.values)
    if (k == kFormatAttr && v == kFormatValue) walker.ours = true;
  for (const auto& [k, v] : root.values) {
    if (!walker.ours) {
      ckpt.metadata[k] = v;
    } else if (k == kFormatMetadataAttr) {
      try {
        ckpt.format_metadata = nlohmann::ordered_json::parse(v);
      } catch (const nlohmann::json::exception&) {
        throw bad_input("hdf5.109", {walker.path, {}, {}}, "root attribute format_metadata_json is not JSON");
      }
    } else if (k.rfind(kEscapedMetadataPrefix, 0) == 0) {
      ckpt.metadata[k.substr(std::strlen(kEscapedMetadataPrefix))] = v;
    } else if (!is_reserved_root_attr(k)) {
      ckpt.metadata[k] = v;
    }
  }
  walker.walk_group(walker.file.get(), "", 0);
  ckpt.tensors = std::move(walker.tensors);
  ckpt.skipped = std::move(walker.skipped);
  return ckpt;
}

}  // namespace supra
