#include "converters/relayout/sru_layout.hpp"

#include <map>

#include "schema/error.hpp"
#include "schema/sru/tensor_table.hpp"

namespace supra {

bool is_sru_layout(const std::string& layout) { return layout == "srupp" || layout == "sru"; }

LayoutResult keep_sru_names(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request) {
  std::error_code ec;
  const fs::path config = !request.model_config.empty() ? request.model_config
                          : fs::is_directory(input, ec)  ? input / "sru_config.json"
                                                         : input.parent_path() / "sru_config.json";
  if (!fs::exists(config, ec))
    throw bad_input("sru.501", {input.string(), {}, {}},
                    "--layout " + request.to_layout + " needs the model's sru_config.json beside it or --model-config");
  const sru::Config c = sru::read_config(config);
  if (request.to_layout != c.kind_name())
    throw usage_error("usage.layout", "--layout " + request.to_layout + " but " + config.string() + " is a " +
                                          c.kind_name() + " model");
  const std::string file = ckpt.files.empty() ? input.string() : ckpt.files.front();
  sru::check_checkpoint(ckpt, c, file);
  std::map<std::string, TensorPtr> by_name;
  for (const auto& t : ckpt.tensors) by_name[t->name()] = t;
  LayoutResult r;
  r.checkpoint = ckpt;
  r.checkpoint.tensors.clear();
  for (const auto& e : sru::expected_tensors(c)) r.checkpoint.tensors.push_back(by_name.at(e.key));
  r.from_convention = r.to_convention = c.kind_name();
  return r;
}

}  // namespace supra
