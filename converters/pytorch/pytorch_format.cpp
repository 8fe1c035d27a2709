// Registers PyTorch checkpoints (.pt/.pth/.bin, sharded .bin.index.json) with the format table.
#include "converters/format.hpp"
#include "converters/pytorch/pytorch_reader.hpp"
#include "converters/pytorch/pytorch_writer.hpp"

namespace supra {
namespace {

bool has_torch_extension(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".pt" || e == ".pth" || e == ".bin" || e == ".ckpt";
}

class PytorchFormat final : public Format {
 public:
  std::string name() const override { return "pytorch"; }

  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
    std::error_code ec;
    if (fs::is_directory(path, ec))
      return fs::exists(path / "pytorch_model.bin.index.json", ec) || fs::exists(path / "pytorch_model.bin", ec);
    const std::string name = path.filename().string();
    if (name.ends_with(".bin.index.json") || name.ends_with(".pt.index.json") || name.ends_with(".pth.index.json"))
      return true;
    if (is_legacy_torch_pickle(head) || looks_like_torch_zip(head)) return true;
    if (head.size() >= 8 && std::string_view(reinterpret_cast<const char*>(head.data()), 8) == "PYTORCH1") return true;
    // A damaged zip or pickle with a torch name: let the reader say what is wrong.
    const bool zip_or_pickle = head.size() >= 2 && ((head[0] == std::byte{'P'} && head[1] == std::byte{'K'}) ||
                                                    head[0] == std::byte{0x80});
    return zip_or_pickle && has_torch_extension(path);
  }

  bool claims_output(const fs::path& out) const override { return has_torch_extension(out); }

  Checkpoint read(const fs::path& path, const ReadOptions& options) const override {
    return read_pytorch(path, options);
  }
  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return plan_pytorch(ckpt, out, options);
  }
  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return write_pytorch(ckpt, out, options);
  }
};

}  // namespace

const Format& pytorch_format() {
  static const PytorchFormat format;
  return format;
}

}  // namespace supra
