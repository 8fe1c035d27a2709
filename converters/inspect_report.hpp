#pragma once
// What `supra inspect` reports, as data: the CLI prints it as a table or as
// JSON, and tests read it directly.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "converters/format.hpp"

namespace supra {

struct InspectOptions {
  bool stats = false;  // min/max/mean/std/NaN/inf per tensor (reads every byte)
  ReadOptions read;
};

// {"path","format","files","tensor_count","parameters","bytes","dtypes":{..},
//  "metadata":{..},["model":{"architecture","convention",...,["supra":{..}]}],
//  "tensors":[{"name","dtype","shape","bytes",["stats":{..}]}]}
// "model" is there when a config is found beside the input and the names fit
// a convention (a SUPRA checkpoint shows its SUPRA fields).
nlohmann::ordered_json inspect_checkpoint(const std::filesystem::path& path, const InspectOptions& options);

}  // namespace supra
