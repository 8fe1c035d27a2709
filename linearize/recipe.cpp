#include "linearize/recipe.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "converters/json_strict.hpp"
#include "schema/error.hpp"
#include "schema/supra_config.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const char* id, const std::string& source, const std::string& path, const std::string& detail) {
  throw bad_input(id, {source, {}, {}}, "at " + (path.empty() ? std::string("/") : path) + ": " + detail);
}

// Every key of `j` must be one of `allowed`.
void require_keys(const json& j, const std::set<std::string>& allowed, const std::string& source, const std::string& path) {
  if (!j.is_object()) fail("recipe.102", source, path, "expected an object");
  for (const auto& [key, value] : j.items())
    if (!allowed.count(key)) fail("recipe.101", source, path + "/" + key, "unknown key '" + key + "'");
}

uint64_t count_at(const json& v, const std::string& source, const std::string& path) {
  if (!v.is_number_unsigned()) fail("recipe.102", source, path, "expected a non-negative integer");
  return v.get<uint64_t>();
}

FeatureInit init_at(const json& v, const std::string& source, const std::string& path) {
  if (!v.is_string()) fail("recipe.102", source, path, "expected \"torch-default\" or \"identity\"");
  const auto init = feature_init_from_name(v.get<std::string>());
  if (!init) fail("recipe.103", source, path, "unknown init '" + v.get<std::string>() + "' (torch-default, identity)");
  return *init;
}

uint64_t parse_index(const std::string& s, const std::string& text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw usage_error("usage.keep-softmax", "--keep-softmax '" + text + "': '" + s + "' is not a layer number");
  return v;
}

std::vector<LayerRecipe> layers_from_json(const json& list, FeatureInit init, const std::string& source) {
  if (!list.is_array()) fail("recipe.102", source, "/layers", "expected an array with one entry per layer");
  std::vector<LayerRecipe> layers;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "/layers/" + std::to_string(i);
    require_keys(list[i], {"layer", "attention", "init"}, source, path);
    if (!list[i].contains("layer") || count_at(list[i]["layer"], source, path + "/layer") != i)
      fail("recipe.103", source, path + "/layer", "must be " + std::to_string(i) + " (layers are listed in order)");
    LayerRecipe l;
    l.init = list[i].contains("init") ? init_at(list[i]["init"], source, path + "/init") : init;
    const json& kind = list[i].contains("attention") ? list[i]["attention"] : json("linear");
    if (kind != "linear" && kind != "softmax")
      fail("recipe.103", source, path + "/attention", "expected \"linear\" or \"softmax\"");
    l.linear = kind == "linear";
    layers.push_back(l);
  }
  return layers;
}

}  // namespace

const char* feature_init_name(FeatureInit i) { return i == FeatureInit::Identity ? "identity" : "torch-default"; }

std::optional<FeatureInit> feature_init_from_name(const std::string& name) {
  if (name == "torch-default") return FeatureInit::TorchDefault;
  if (name == "identity") return FeatureInit::Identity;
  return std::nullopt;
}

std::vector<uint64_t> parse_layer_selection(const std::string& text, uint64_t layers) {
  std::set<uint64_t> out;
  auto check = [&](uint64_t l) {
    if (l >= layers)
      throw usage_error("usage.keep-softmax", "--keep-softmax '" + text + "': layer " + std::to_string(l) +
                                                  " does not exist (the model has " + std::to_string(layers) + ")");
    out.insert(l);
  };
  if (text == "none" || text.empty()) return {};
  if (text.starts_with("every:")) {
    const uint64_t step = parse_index(text.substr(6), text);
    if (step == 0) throw usage_error("usage.keep-softmax", "--keep-softmax '" + text + "': the step must be positive");
    for (uint64_t l = 0; l < layers; l += step) check(l);
  } else if (text.starts_with("last:")) {
    const uint64_t n = parse_index(text.substr(5), text);
    if (n > layers)
      throw usage_error("usage.keep-softmax", "--keep-softmax '" + text + "': the model has only " +
                                                  std::to_string(layers) + " layers");
    for (uint64_t l = layers - n; l < layers; ++l) check(l);
  } else {
    std::stringstream ss(text);
    for (std::string part; std::getline(ss, part, ',');) check(parse_index(part, text));
  }
  return {out.begin(), out.end()};
}

LinearizeRecipe resolve_recipe(LinearizeRecipe r, uint64_t layers, const std::string& keep_softmax) {
  if (!keep_softmax.empty() && !r.layers.empty())
    throw usage_error("usage.recipe", "--keep-softmax and a recipe's layers both choose the softmax layers");
  if (r.layers.empty()) {
    r.layers.assign(layers, LayerRecipe{true, r.init});
    for (uint64_t l : parse_layer_selection(keep_softmax, layers)) r.layers[l].linear = false;
  }
  if (r.layers.size() != layers)
    throw usage_error("usage.recipe", "the recipe lists " + std::to_string(r.layers.size()) + " layers, the model has " +
                                          std::to_string(layers));
  return r;
}

LinearizeRecipe recipe_from_json(const json& j, const std::string& source) {
  require_keys(j, {"seed", "init", "qk_dim", "decay", "decay_start", "qk_norm", "layers"}, source, "");
  LinearizeRecipe r;
  if (j.contains("seed")) r.seed = count_at(j["seed"], source, "/seed");
  if (j.contains("init")) r.init = init_at(j["init"], source, "/init");
  if (j.contains("qk_dim") && !j["qk_dim"].is_null()) {
    r.qk_dim = count_at(j["qk_dim"], source, "/qk_dim");
    if (*r.qk_dim == 0) fail("recipe.103", source, "/qk_dim", "must be positive");
  }
  if (j.contains("decay")) {
    if (!j["decay"].is_string()) fail("recipe.102", source, "/decay", "expected \"lightning\", \"retnet\" or \"none\"");
    const auto d = supra_decay_from_name(j["decay"].get<std::string>());
    if (!d) fail("recipe.103", source, "/decay", "unknown decay '" + j["decay"].get<std::string>() + "'");
    r.decay = *d;
  }
  if (j.contains("decay_start") && !j["decay_start"].is_null()) {
    if (!j["decay_start"].is_number()) fail("recipe.102", source, "/decay_start", "expected a number or null");
    r.decay_start = j["decay_start"].get<double>();
    if (!(std::isfinite(*r.decay_start) && *r.decay_start > 0)) fail("recipe.103", source, "/decay_start", "must be positive");
    if (r.decay != SupraDecay::Lightning) fail("recipe.103", source, "/decay_start", "applies to lightning decay only");
  }
  if (j.contains("qk_norm")) {
    if (!j["qk_norm"].is_boolean()) fail("recipe.102", source, "/qk_norm", "expected true or false");
    r.qk_norm = j["qk_norm"].get<bool>();
  }
  if (j.contains("layers")) r.layers = layers_from_json(j["layers"], r.init, source);
  return r;
}

LinearizeRecipe read_recipe_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("io.open", {path, {}, {}}, "cannot open the recipe");
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json(parse_json_rejecting_duplicates(ss.str()));
  } catch (const std::exception& e) {
    throw bad_input("recipe.104", {path, {}, {}}, std::string("not valid JSON: ") + e.what());
  }
  return recipe_from_json(j, path);
}

nlohmann::ordered_json recipe_to_json(const LinearizeRecipe& r) {
  nlohmann::ordered_json j;
  j["seed"] = r.seed;
  j["init"] = feature_init_name(r.init);
  j["qk_dim"] = r.qk_dim ? json(*r.qk_dim) : json(nullptr);
  j["decay"] = supra_decay_name(r.decay);
  j["decay_start"] = r.decay_start ? json(*r.decay_start) : json(nullptr);
  j["qk_norm"] = r.qk_norm;
  auto& layers = j["layers"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < r.layers.size(); ++i)
    layers.push_back({{"layer", i}, {"attention", r.layers[i].linear ? "linear" : "softmax"},
                      {"init", feature_init_name(r.layers[i].init)}});
  return j;
}

}  // namespace supra
