#include "validate/sru/model.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "schema/sru/tensor_table.hpp"
#include "validate/weights.hpp"

namespace supra::validate::sru {

namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigName = "sru_config.json";

bool names_sru_kind(const fs::path& config) {
  std::ifstream in(config);
  if (!in) return false;
  try {
    const auto j = nlohmann::json::parse(in);
    return j.is_object() && j.contains("kind") && j["kind"].is_string() &&
           (j["kind"] == "sru" || j["kind"] == "srupp");
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

Mat<float> read_matrix(const TensorSource& t) {
  const auto& shape = t.info().shape;
  const uint64_t rows = shape.size() == 2 ? shape[0] : 1;
  Mat<float> m(int64_t(rows), int64_t(row_length(t.info())));
  read_rows<float>(t, 0, rows, m.data());
  return m;
}

// Weights by role for one layer (-1: outside rnn_lst).
using RoleMap = std::map<std::string, const TensorSource*>;

std::map<int64_t, RoleMap> tensors_by_role(const Checkpoint& ckpt, const Config& c) {
  std::map<int64_t, RoleMap> out;
  for (const auto& e : supra::sru::expected_tensors(c)) out[e.layer][e.role] = ckpt.find(e.key);
  return out;
}

Layer load_layer(const Config& c, uint64_t l, RoleMap& r) {
  Layer L;
  L.n_in = c.layer_input(l);
  L.k = c.layer_k(l);
  L.projection = c.layer_projection(l);
  L.attention = c.layer_has_attention(l);
  L.v = read_vector<float>(*r["cell.v"]);
  L.b = read_vector<float>(*r["cell.b"]);
  L.scale_x = read_vector<float>(*r["cell.scale_x"]).at(0);
  auto matrix = [&](const char* role) { return r.count(role) ? read_matrix(*r[role]) : Mat<float>(); };
  auto vec = [&](const char* role) { return r.count(role) ? read_vector<float>(*r[role]) : std::vector<float>(); };
  L.w = matrix("sru.w");
  L.w0 = matrix("sru.w0");
  L.w1 = matrix("sru.w1");
  L.q = matrix("attn.q");
  L.kv = matrix("attn.kv");
  L.out = matrix("attn.out");
  if (r.count("attn.alpha")) L.alpha = read_vector<float>(*r["attn.alpha"]).at(0);
  L.proj_in = matrix("proj.in");
  L.proj_out = matrix("proj.out");
  L.tm_norm_w = vec("tm.norm.weight");
  L.tm_norm_b = vec("tm.norm.bias");
  L.cell_norm_w = vec("cell.norm.weight");
  L.cell_norm_b = vec("cell.norm.bias");
  return L;
}

}  // namespace

bool is_sru_model(const fs::path& path, const fs::path& model_config) {
  std::error_code ec;
  if (!model_config.empty()) return names_sru_kind(model_config);
  if (fs::is_directory(path, ec)) return fs::exists(path / kConfigName, ec);
  return fs::is_regular_file(path, ec) && fs::exists(path.parent_path() / kConfigName, ec) &&
         names_sru_kind(path.parent_path() / kConfigName);
}

fs::path config_path(const fs::path& path, const fs::path& model_config) {
  if (!model_config.empty()) return model_config;
  std::error_code ec;
  return fs::is_directory(path, ec) ? path / kConfigName : path.parent_path() / kConfigName;
}

fs::path checkpoint_path(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".pt" || ext == ".pth" || ext == ".bin" || ext == ".safetensors"))
      found.push_back(e.path());
  }
  if (found.size() != 1)
    throw bad_input("sru.301", {path.string(), {}, {}},
                    "an SRU model folder holds exactly one checkpoint (.pt, .pth, .bin or .safetensors) beside "
                    "sru_config.json; found " + std::to_string(found.size()));
  return found.front();
}

Model make_model(Config config, Checkpoint checkpoint, const std::string& file) {
  supra::sru::check_checkpoint(checkpoint, config, file);
  Model m;
  m.config = std::move(config);
  m.file = file;
  m.checkpoint = std::move(checkpoint);
  auto roles = tensors_by_role(m.checkpoint, m.config);
  RoleMap& top = roles[-1];
  if (m.config.lm) {
    m.embed = read_matrix(*top["lm.embed"]);
    m.out = read_matrix(*top["lm.out"]);
    m.out_bias = read_vector<float>(*top["lm.out_bias"]);
  }
  if (top.count("rnn.input_to_hidden")) m.input_to_hidden = read_matrix(*top["rnn.input_to_hidden"]);
  for (uint64_t l = 0; l < m.config.num_layers; ++l) m.layers.push_back(load_layer(m.config, l, roles[int64_t(l)]));
  return m;
}

Model open_model(const fs::path& path, const fs::path& model_config) {
  Config config = supra::sru::read_config(config_path(path, model_config));
  const fs::path file = checkpoint_path(path);
  const Format& format = detect_input_format(file);
  if (!format.can_read())
    throw bad_input("sru.302", {file.string(), {}, {}}, "the " + format.name + " format cannot be read");
  return make_model(std::move(config), format.read(file, {}), file.string());
}

}  // namespace supra::validate::sru
