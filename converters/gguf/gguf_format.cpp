// Registers GGUF with the format table: detected by its magic "GGUF",
// written for output names ending in ".gguf".
#include <cstring>

#include "converters/format.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "converters/gguf/gguf_writer.hpp"
#include "converters/layout_writer.hpp"
#include "converters/output_transaction.hpp"

namespace supra {
namespace {

class GgufFormat final : public Format {
 public:
  std::string name() const override { return "gguf"; }

  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return false;
    if (head.size() >= 4) return std::memcmp(head.data(), "GGUF", 4) == 0;
    return path.extension() == ".gguf";  // too short to tell: the reader will say what is wrong
  }

  bool claims_output(const fs::path& out) const override { return out.extension() == ".gguf"; }

  Checkpoint read(const fs::path& path, const ReadOptions&) const override { return read_gguf(path); }

  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    const GgufOutput layout = make_layout(ckpt, out, options);
    WritePlan plan = plan_from_layouts({layout.file}, options.threads);
    // Quantized tensors stream as raw bytes; show their real shape.
    for (size_t i = 0; i < plan.tensors.size() && i < layout.tensors.size(); ++i)
      if (layout.tensors[i].ggml_type == ggml::Q8_0) plan.tensors[i].shape = layout.tensors[i].shape;
    return plan;
  }

  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    const GgufOutput layout = make_layout(ckpt, out, options);
    OutputTransaction tx(layout.folder, options.force);
    WriteReport report;
    write_layouts(tx, {layout.file}, options, report);
    tx.commit();
    return report;
  }

 private:
  static GgufOutput make_layout(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
    return layout_gguf(ckpt, default_gguf_kvs(ckpt), out, GgufWriteOptions{options.quantize});
  }
};

}  // namespace

const Format& gguf_format() {
  static const GgufFormat format;
  return format;
}

}  // namespace supra
