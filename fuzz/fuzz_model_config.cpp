// Model configs: the same JSON read as an HF config.json, a Meta
// params.json, an open_lm config, GGUF metadata, and an architecture /
// naming-convention table (checked against the built-in architectures).
#include <nlohmann/json.hpp>

#include "converters/json_strict.hpp"
#include "fuzz/fuzz_support.hpp"
#include "schema/model_spec.hpp"
#include "schema/naming_table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::ordered_json j;
  try {  // JSON syntax errors are the parser's, refused before any of this
    j = supra::parse_json_rejecting_duplicates(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
    return 0;
  }
  const nlohmann::json plain(j);
  using namespace supra;
  fuzz::run([&] { (void)spec_from_hf_config(plain, "config.json"); });
  fuzz::run([&] { (void)spec_from_meta_params(plain, 32000, "params.json"); });
  fuzz::run([&] { (void)spec_from_open_lm_config(plain, "open_lm_config.json"); });
  fuzz::run([&] { (void)spec_from_gguf_metadata(j, "gguf"); });
  fuzz::run([&] { (void)parse_architecture(plain, "arch.json"); });
  fuzz::run([&] {
    const Convention c = parse_convention(plain, "convention.json");
    std::vector<const Architecture*> archs;
    for (const Architecture& a : all_architectures()) archs.push_back(&a);
    check_convention_against(c, archs, "convention.json");
  });
  return 0;
}
