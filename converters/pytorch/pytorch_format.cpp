// PyTorch checkpoints (.pt/.pth/.bin, sharded .bin.index.json) in the format table.
#include "converters/format_detection.hpp"
#include "converters/pytorch/pytorch_reader.hpp"

namespace supra {
namespace {

bool has_torch_extension(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".pt" || e == ".pth" || e == ".bin" || e == ".ckpt";
}

}  // namespace

bool sniff_pytorch(const fs::path& path, std::span<const std::byte> head) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    return fs::exists(path / "pytorch_model.bin.index.json", ec) || fs::exists(path / "pytorch_model.bin", ec);
  const std::string name = path.filename().string();
  if (name.ends_with(".bin.index.json") || name.ends_with(".pt.index.json") || name.ends_with(".pth.index.json"))
    return true;
  if (is_legacy_torch_pickle(head) || looks_like_torch_zip(head)) return true;
  if (head.size() >= 8 && std::string_view(reinterpret_cast<const char*>(head.data()), 8) == "PYTORCH1") return true;
  // A damaged zip or pickle with a torch name: let the reader say what is wrong.
  const bool zip_or_pickle =
      head.size() >= 2 && ((head[0] == std::byte{'P'} && head[1] == std::byte{'K'}) || head[0] == std::byte{0x80});
  return zip_or_pickle && has_torch_extension(path);
}

bool claims_pytorch_output(const fs::path& out) { return has_torch_extension(out); }

}  // namespace supra
