#include "converters/relayout/layout_pipeline.hpp"
#include "converters/relayout/sru_layout.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "converters/gguf/gguf_reader.hpp"
#include "converters/json_strict.hpp"
#include "schema/relayout/convert_layout.hpp"
#include "converters/relayout/gguf_llama_metadata.hpp"
#include "converters/tokenizer/hf_tokenizer_to_gguf.hpp"
#include "schema/error.hpp"
#include "tokenizer/hf_tokenizer_writer.hpp"

namespace supra {
namespace {

constexpr uint64_t kMaxConfigBytes = 64ull << 20;      // configs are KBs
constexpr uint64_t kMaxSideFileBytes = 1024ull << 20;  // tokenizer files are MBs

// The layout a checkpoint read from a format with a layout of its own (GGUF)
// gets when written to a format without one.
constexpr const char* kNeutralLayout = "hf";
constexpr std::string_view kNoLayout = "none";  // --layout none: names as they are, whatever the output
// The layout whose conventions name the architectures GGUF metadata describes.
constexpr const char* kGgufLayout = "gguf";

// Files of a Hugging Face folder that describe the tokenizer and generation,
// carried over unchanged.
constexpr const char* kTokenizerAndGenerationFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "vocab.json",     "merges.txt",            "added_tokens.json",       "generation_config.json"};

std::string read_text(const fs::path& p, uint64_t limit) {
  std::error_code ec;
  const uint64_t size = fs::file_size(p, ec);
  if (ec) throw io_error("io.open", {p.string(), {}, {}}, ec.message());
  if (size > limit) throw bad_input("layout.302", {p.string(), {}, {}}, "file is " + std::to_string(size) + " bytes, too large");
  std::ifstream in(p, std::ios::binary);
  if (!in) throw io_error("io.open", {p.string(), {}, {}}, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::ordered_json parse_config(const std::string& text, const fs::path& p) {
  try {
    return parse_json_rejecting_duplicates(text);
  } catch (const std::exception& e) {
    throw bad_input("layout.302", {p.string(), {}, {}}, std::string("not valid JSON: ") + e.what());
  }
}

nlohmann::json read_json(const fs::path& p) { return nlohmann::json(parse_config(read_text(p, kMaxConfigBytes), p)); }

// What each layout family keeps beside its tensors. A layout without a row
// (canonical) has no config file and no format metadata.
struct LayoutFiles {
  const char* layout;
  const char* config_file;  // nullptr: the model config travels in the weights file's own metadata
  nlohmann::ordered_json (*config_from_spec)(const ModelSpec& spec, const std::string& torch_dtype);
  bool config_says_torch_dtype;  // the config names the weights' dtype (HF's torch_dtype)
  // The checkpoint's format metadata in this layout: GGUF's model and tokenizer KVs.
  void (*set_format_metadata)(LayoutResult& r, const Checkpoint& source, const fs::path& input);
};

void drop_gguf_metadata(LayoutResult& r, const Checkpoint&, const fs::path&) {
  r.checkpoint.format_metadata.erase("gguf");  // model KVs of another layout would now lie
  std::erase_if(r.checkpoint.metadata, [](const auto& kv) { return kv.first.starts_with("gguf."); });  // (their text too)
}

void set_gguf_model_kvs(LayoutResult& r, const Checkpoint& source, const fs::path& input) {
  nlohmann::ordered_json kvs = gguf_llama_metadata(r.spec);
  std::set<std::string> keys;
  for (const auto& kv : kvs) keys.insert(kv["key"].get<std::string>());
  bool has_tokenizer = false;
  if (source.format_metadata.contains("gguf") && source.format_metadata["gguf"].is_array())
    for (const auto& kv : source.format_metadata["gguf"])
      if (kv.is_object() && kv.contains("key") && kv["key"].is_string() && !keys.count(kv["key"].get<std::string>())) {
        has_tokenizer = has_tokenizer || kv["key"] == "tokenizer.ggml.model";
        kvs.push_back(kv);
      }
  std::error_code ec;
  if (!has_tokenizer && fs::is_directory(input, ec) && has_hf_tokenizer(input)) {
    for (auto& kv : hf_tokenizer_to_gguf_kvs(input, r.spec.vocab)) kvs.push_back(std::move(kv));
    has_tokenizer = true;
  }
  // llama.cpp needs tokenizer.ggml.model; "none" loads a vocab-less model (llama.cpp src/llama-vocab.cpp load).
  if (!has_tokenizer) kvs.push_back({{"key", "tokenizer.ggml.model"}, {"type", "string"}, {"value", "none"}});
  r.checkpoint.format_metadata["gguf"] = std::move(kvs);
}

nlohmann::ordered_json meta_params(const ModelSpec& s, const std::string&) { return meta_params_from_spec(s); }
nlohmann::ordered_json open_lm_config(const ModelSpec& s, const std::string&) { return open_lm_config_from_spec(s); }

const LayoutFiles kLayoutFiles[] = {
    {"hf", "config.json", hf_config_from_spec, true, drop_gguf_metadata},
    {"meta", "params.json", meta_params, false, drop_gguf_metadata},
    {"open_lm", "open_lm_config.json", open_lm_config, false, drop_gguf_metadata},
    {"gguf", nullptr, nullptr, false, set_gguf_model_kvs},
};

const LayoutFiles* layout_files(const std::string& layout) {
  for (const LayoutFiles& l : kLayoutFiles)
    if (layout == l.layout) return &l;
  return nullptr;
}

fs::path input_folder(const fs::path& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return input;
  return input.has_parent_path() ? input.parent_path() : fs::path(".");
}

uint64_t rows_of_first(const Checkpoint& c, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const TensorSource* t = c.find(n); t && !t->info().shape.empty()) return t->info().shape[0];
  return 0;
}

// Which ecosystem a config JSON comes from, by its keys.
enum class ConfigKind { Hf, OpenLm, MetaParams, Unknown };

ConfigKind config_kind(const nlohmann::json& j) {
  if (!j.is_object()) return ConfigKind::Unknown;
  if (j.contains("model_type")) return ConfigKind::Hf;
  if (j.contains("hidden_dim")) return ConfigKind::OpenLm;
  if (j.contains("dim") && j.contains("n_layers") && !j.contains("seq_len")) return ConfigKind::MetaParams;
  if (j.contains("dim")) return ConfigKind::OpenLm;
  return ConfigKind::Unknown;
}

ModelSpec spec_from_any_config(const nlohmann::json& j, const Checkpoint& ckpt, const std::string& source) {
  switch (config_kind(j)) {
    case ConfigKind::Hf: return spec_from_hf_config(j, source);
    case ConfigKind::OpenLm: return spec_from_open_lm_config(j, source);
    case ConfigKind::MetaParams:
      return spec_from_meta_params(j, rows_of_first(ckpt, {"tok_embeddings.weight"}), source);
    case ConfigKind::Unknown: break;
  }
  throw bad_input("layout.301", {source, {}, {}},
                  "not a model config supra knows (HF config.json, Meta params.json, open_lm model config)");
}

// The config file an input's spec comes from: the explicit one, else the
// first layout config file in the input's folder; empty when none.
fs::path config_file_of(const fs::path& input, const fs::path& explicit_config) {
  if (!explicit_config.empty()) return explicit_config;
  const fs::path folder = input_folder(input);
  std::error_code ec;
  for (const LayoutFiles& l : kLayoutFiles)
    if (l.config_file && fs::is_regular_file(folder / l.config_file, ec)) return folder / l.config_file;
  return {};
}

bool has_architecture_tables(const nlohmann::json& config) {
  if (config_kind(config) == ConfigKind::Unknown) return false;
  if (config_kind(config) != ConfigKind::Hf) return true;  // Meta and open_lm configs are Llama-shaped
  const auto& model_type = config["model_type"];
  return model_type.is_string() && architecture_for_model_type(model_type.get<std::string>()) != nullptr;
}

bool gguf_metadata_has_architecture_tables(const nlohmann::ordered_json& kvs) {
  if (!kvs.is_array()) return false;
  for (const auto& kv : kvs)
    if (kv.is_object() && kv.contains("key") && kv["key"] == "general.architecture" && kv.contains("value") &&
        kv["value"].is_string()) {
      const std::string arch = kv["value"].get<std::string>();
      for (const Convention& c : all_conventions())
        if (c.layout == kGgufLayout && std::count(c.architectures.begin(), c.architectures.end(), arch)) return true;
    }
  return false;
}

ModelSpec spec_from_gguf_checkpoint(const Checkpoint& ckpt, const fs::path& input) {
  ModelSpec s = spec_from_gguf_metadata(ckpt.format_metadata["gguf"], input.string());
  if (s.vocab == 0) s.vocab = rows_of_first(ckpt, {"token_embd.weight"});
  return s;
}

// Re-lays `ckpt` out from `from` into `to_layout` for a known spec.
LayoutResult relayout(const Checkpoint& ckpt, const fs::path& input, ModelSpec spec, const Convention& from,
                      const std::string& to_layout) {
  LayoutResult r;
  r.spec = std::move(spec);
  const Convention& to = convention_for(to_layout, r.spec.architecture);
  r.from_convention = from.name;
  r.to_convention = to.name;
  r.checkpoint = convert_layout(ckpt, r.spec, from, to);
  // A source without an output matrix uses the embedding (tied); the configs written must say so.
  bool has_output = false;
  const NameResolver resolver(from, r.spec.layers);
  for (const auto& t : ckpt.tensors)
    if (auto m = resolver.resolve(t->name()); m && m->entry && m->entry->id == "output.weight") has_output = true;
  const ArchitectureTensor* output = find_architecture(r.spec.architecture).find("output.weight");
  if (!has_output && output && !output->tied_to.empty()) r.spec.tied_embeddings = true;
  const LayoutFiles* files = layout_files(to.layout);
  (files ? files->set_format_metadata : drop_gguf_metadata)(r, ckpt, input);
  return r;
}

// A re-layout that is done only if the input is a model supra knows: no
// config, an architecture without tables or names no convention claims
// leave the tensors as they are.
std::optional<LayoutResult> relayout_if_known(const Checkpoint& ckpt, const fs::path& input,
                                              const std::string& to_layout) {
  std::optional<ModelSpec> spec;
  try {
    spec = try_discover_model_spec(ckpt, input, {});
  } catch (const Error& e) {
    // Not a model (a GGUF LoRA adapter, a vocab-only file): nothing to re-lay out.
    if (!e.id().starts_with("spec.")) throw;
  }
  if (!spec) return std::nullopt;
  const Convention* from = best_matching_convention(ckpt, spec->architecture);
  if (!from) return std::nullopt;
  return relayout(ckpt, input, std::move(*spec), *from, to_layout);
}

// The input's own config file, its torch_dtype (and the newer "dtype") set
// to `torch_dtype` when it says one; byte for byte when nothing changes.
SideFile carried_config(const fs::path& path, const LayoutFiles& layout, const std::string& torch_dtype) {
  std::string text = read_text(path, kMaxConfigBytes);
  if (!layout.config_says_torch_dtype || torch_dtype.empty()) return {layout.config_file, std::move(text)};
  nlohmann::ordered_json config = parse_config(text, path);
  if (!config.is_object()) throw bad_input("layout.302", {path.string(), {}, {}}, "not a JSON object");
  bool changed = false;
  for (const std::string key : {"torch_dtype", "dtype"}) {
    if (key == "dtype" && !config.contains(key)) continue;  // only transformers >= 4.56 writes "dtype"
    if (config.contains(key) && config[key] == torch_dtype) continue;
    config[key] = torch_dtype;
    changed = true;
  }
  if (changed) text = config.dump(2) + "\n";
  return {layout.config_file, std::move(text)};
}

}  // namespace

std::optional<ModelSpec> try_discover_model_spec(const Checkpoint& ckpt, const fs::path& input,
                                                 const fs::path& explicit_config) {
  const fs::path config = config_file_of(input, explicit_config);
  if (!config.empty()) {
    const nlohmann::json j = read_json(config);
    if (!has_architecture_tables(j)) return std::nullopt;
    return spec_from_any_config(j, ckpt, config.string());
  }
  if (ckpt.format_metadata.contains("gguf") && gguf_metadata_has_architecture_tables(ckpt.format_metadata["gguf"]))
    return spec_from_gguf_checkpoint(ckpt, input);
  return std::nullopt;
}

ModelSpec discover_model_spec(const Checkpoint& ckpt, const fs::path& input, const fs::path& explicit_config) {
  const fs::path config = config_file_of(input, explicit_config);
  if (!config.empty()) return spec_from_any_config(read_json(config), ckpt, config.string());
  if (ckpt.format_metadata.contains("gguf")) return spec_from_gguf_checkpoint(ckpt, input);
  throw bad_input("layout.301", {input.string(), {}, {}},
                  "no model config found (config.json, params.json or open_lm_config.json next to the input); "
                  "give --model-config");
}

LayoutResult apply_layout(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request) {
  ModelSpec spec = discover_model_spec(ckpt, input, request.model_config);
  const Convention& from = request.from_layout.empty() ? detect_convention(ckpt, spec.architecture)
                                                        : convention_for(request.from_layout, spec.architecture);
  return relayout(ckpt, input, std::move(spec), from, request.to_layout);
}

std::optional<LayoutResult> relayout_for_output(const Checkpoint& ckpt, const fs::path& input, const Format& reader,
                                                const Format& writer, const LayoutRequest& request) {
  if (request.to_layout == kNoLayout) {
    if (!request.from_layout.empty() || !request.model_config.empty())
      throw usage_error("usage.layout", "--layout none keeps the names: --from-layout and --model-config do not apply");
    return std::nullopt;
  }
  const bool asked = !request.to_layout.empty() || !request.from_layout.empty() || !request.model_config.empty();
  if (is_sru_layout(request.to_layout) && writer.implied_layout.empty()) return keep_sru_names(ckpt, input, request);
  if (!writer.implied_layout.empty()) {
    // A file of this format holds its own layout's names, or it does not load.
    if (!request.to_layout.empty() && request.to_layout != writer.implied_layout)
      throw usage_error("usage.layout", "a " + writer.name + " file holds " + writer.implied_layout +
                                            " names only; --layout " + request.to_layout + " cannot be written to it");
    const bool same_layout = reader.implied_layout == writer.implied_layout;
    if (!same_layout || !request.to_layout.empty()) {
      LayoutRequest r = request;
      r.to_layout = writer.implied_layout;
      return apply_layout(ckpt, input, r);  // no model config: a clear error, not an unloadable file
    }
  } else if (!request.to_layout.empty()) {
    return apply_layout(ckpt, input, request);
  } else if (!reader.implied_layout.empty()) {
    if (!asked) return relayout_if_known(ckpt, input, kNeutralLayout);
    LayoutRequest r = request;
    r.to_layout = kNeutralLayout;
    return apply_layout(ckpt, input, r);
  }
  if (!request.from_layout.empty() || !request.model_config.empty())
    throw usage_error("usage.layout", "--from-layout and --model-config need --layout");
  return std::nullopt;
}

std::string dominant_torch_dtype(const Checkpoint& ckpt) {
  std::map<DType, uint64_t> bytes;
  std::vector<DType> order;  // ties go to the dtype seen first
  for (const auto& t : ckpt.tensors) {
    const DType d = t->info().dtype;
    if (!dtype_is_float(d)) continue;
    if (!bytes.count(d)) order.push_back(d);
    bytes[d] += t->info().nbytes();
  }
  const DType* best = nullptr;
  for (const DType& d : order)
    if (!best || bytes[d] > bytes[*best]) best = &d;
  return best ? std::string(dtype_torch_name(*best)) : std::string();
}

std::vector<SideFile> folder_side_files(const Checkpoint& written, const LayoutResult* relaid, const fs::path& input) {
  std::vector<SideFile> files;
  std::error_code ec;
  const bool folder_input = fs::is_directory(input, ec);
  const std::string torch_dtype = dominant_torch_dtype(written);
  if (!relaid) {
    // The names are the input's: every config it has still describes them.
    for (const LayoutFiles& l : kLayoutFiles)
      if (folder_input && l.config_file && fs::is_regular_file(input / l.config_file, ec))
        files.push_back(carried_config(input / l.config_file, l, torch_dtype));
  } else if (const LayoutFiles* to = layout_files(find_convention(relaid->to_convention).layout);
             to && to->config_file) {
    const bool same_layout = find_convention(relaid->from_convention).layout == to->layout;
    if (folder_input && same_layout && fs::is_regular_file(input / to->config_file, ec))
      files.push_back(carried_config(input / to->config_file, *to, torch_dtype));
    else
      files.push_back({to->config_file, to->config_from_spec(relaid->spec, torch_dtype).dump(2) + "\n"});
  }
  for (const char* name : kTokenizerAndGenerationFiles)
    if (folder_input && fs::is_regular_file(input / name, ec))
      files.push_back({name, read_text(input / name, kMaxSideFileBytes)});
  // A GGUF's vocabulary (tokenizer.ggml.*) becomes tokenizer.json + tokenizer_config.json.
  if (!folder_input && relaid && find_convention(relaid->to_convention).layout == "hf" &&
      find_convention(relaid->from_convention).layout == "gguf")
    for (auto& [name, text] : hf_tokenizer_files_from_gguf(gguf_kvs_to_json(parse_gguf(input).kvs), input.string()))
      files.push_back({name, std::move(text)});
  return files;
}

}  // namespace supra
