// A Meta original checkpoint folder: params.json plus one or more
// tensor-parallel shards consolidated.00.pth, consolidated.01.pth, ...
// Each shard is read by the PyTorch reader and
// the shards are merged along each tensor's split dimension
// (converters/relayout/meta_shards.hpp). Read only: writing Meta layout is
// `convert --layout meta` to a folder, which writes one unsharded file.
#include <algorithm>
#include <fstream>
#include <regex>

#include "converters/format_detection.hpp"
#include "converters/relayout/meta_shards.hpp"
#include "converters/pytorch/pytorch_reader.hpp"
#include "schema/error.hpp"
#include "schema/model_spec.hpp"

namespace supra {
namespace {

std::vector<fs::path> consolidated_shards(const fs::path& folder) {
  static const std::regex kShard(R"(consolidated\.\d+\.pth)");
  std::vector<fs::path> shards;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (std::regex_match(e.path().filename().string(), kShard)) shards.push_back(e.path());
  std::sort(shards.begin(), shards.end());
  return shards;
}

}  // namespace

bool sniff_meta_folder(const fs::path& path, std::span<const std::byte>) {
  std::error_code ec;
  return fs::is_directory(path, ec) && !consolidated_shards(path).empty();
}

Checkpoint read_meta_folder(const fs::path& folder, const ReadOptions& options) {
  const auto shard_paths = consolidated_shards(folder);
  std::vector<Checkpoint> shards;
  for (const auto& p : shard_paths) shards.push_back(read_pytorch(p, options));
  Checkpoint merged;
  if (shards.size() == 1) {
    merged = std::move(shards[0]);
  } else {
    const fs::path params_path = folder / "params.json";
    std::ifstream in(params_path);
    if (!in)
      throw bad_input("meta.101", {params_path.string(), {}, {}},
                      "a sharded Meta checkpoint needs its params.json to know how to merge the shards");
    nlohmann::json params;
    try {
      params = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw bad_input("meta.102", {params_path.string(), {}, {}}, std::string("not valid JSON: ") + e.what());
    }
    // Llama 1/2 split the embedding by columns, so every shard has all vocabulary rows.
    uint64_t vocab_rows = 0;
    if (const TensorSource* e = shards[0].find("tok_embeddings.weight"); e && !e->info().shape.empty())
      vocab_rows = e->info().shape[0];
    merged = merge_meta_shards(shards, spec_from_meta_params(params, vocab_rows, params_path.string()));
    merged.files.clear();
    for (const auto& s : shards) merged.files.insert(merged.files.end(), s.files.begin(), s.files.end());
  }
  merged.format = "meta";
  return merged;
}

}  // namespace supra
