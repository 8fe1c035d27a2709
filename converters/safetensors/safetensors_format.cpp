// Registers safetensors with the format table.
#include <cstring>

#include "converters/format.hpp"
#include "converters/layout_writer.hpp"
#include "converters/output_transaction.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "converters/safetensors/safetensors_writer.hpp"

namespace supra {
namespace {

class SafetensorsFormat final : public Format {
 public:
  std::string name() const override { return "safetensors"; }

  bool sniff(const fs::path& path, std::span<const std::byte> head) const override {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (const auto& e : fs::directory_iterator(path, ec))
        if (e.path().filename().string().ends_with(".safetensors") ||
            e.path().filename().string().ends_with(".safetensors.index.json"))
          return true;
      return false;
    }
    if (path.filename().string().ends_with(".safetensors.index.json")) return true;
    // Content: a u64 header length, then a JSON object.
    if (head.size() < 9) return path.extension() == ".safetensors";
    uint64_t n;
    std::memcpy(&n, head.data(), 8);
    size_t i = 8;
    while (i < head.size() && (char(head[i]) == ' ' || char(head[i]) == '\n' || char(head[i]) == '\t' || char(head[i]) == '\r')) ++i;
    const bool looks_like_header = n >= 2 && n <= 100'000'000 && i < head.size() && char(head[i]) == '{';
    return looks_like_header || path.extension() == ".safetensors";
  }

  bool claims_output(const fs::path& out) const override {
    std::error_code ec;
    return out.extension() == ".safetensors" || !out.has_extension() || fs::is_directory(out, ec);
  }

  Checkpoint read(const fs::path& path, const ReadOptions&) const override {
    return read_safetensors(path);
  }

  WritePlan plan(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    return plan_from_layouts(layout_safetensors(ckpt, out, options.max_shard_size).files, options.threads);
  }

  WriteReport write(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) const override {
    SafetensorsOutput layout = layout_safetensors(ckpt, out, options.max_shard_size);
    OutputTransaction tx(layout.folder, options.force);
    WriteReport report;
    write_layouts(tx, layout.files, options, report);
    tx.commit();
    return report;
  }
};

}  // namespace

const Format& safetensors_format() {
  static const SafetensorsFormat format;
  return format;
}

}  // namespace supra
