#include "converters/layout/layout_pipeline.hpp"

#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "converters/gguf/gguf_reader.hpp"
#include "converters/json_strict.hpp"
#include "converters/layout/convert_layout.hpp"
#include "converters/layout/gguf_llama_metadata.hpp"
#include "converters/output_transaction.hpp"
#include "converters/tokenizer/hf_tokenizer_to_gguf.hpp"
#include "schema/error.hpp"
#include "tokenizer/hf_tokenizer_writer.hpp"

namespace supra {
namespace {

constexpr uint64_t kMaxConfigBytes = 64ull << 20;      // configs are KBs
constexpr uint64_t kMaxSideFileBytes = 1024ull << 20;  // tokenizer files are MBs

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

nlohmann::json read_json(const fs::path& p) {
  const std::string text = read_text(p, kMaxConfigBytes);
  try {
    return nlohmann::json(parse_json_rejecting_duplicates(text));
  } catch (const std::exception& e) {
    throw bad_input("layout.302", {p.string(), {}, {}}, std::string("not valid JSON: ") + e.what());
  }
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
ModelSpec spec_from_any_config(const nlohmann::json& j, const Checkpoint& ckpt, const std::string& source) {
  if (j.is_object() && j.contains("model_type")) return spec_from_hf_config(j, source);
  if (j.is_object() && j.contains("hidden_dim")) return spec_from_open_lm_config(j, source);
  if (j.is_object() && j.contains("dim") && j.contains("n_layers") && !j.contains("seq_len"))
    return spec_from_meta_params(j, rows_of_first(ckpt, {"tok_embeddings.weight"}), source);
  if (j.is_object() && j.contains("dim")) return spec_from_open_lm_config(j, source);
  throw bad_input("layout.301", {source, {}, {}},
                  "not a model config supra knows (HF config.json, Meta params.json, open_lm model config)");
}

}  // namespace

ModelSpec discover_model_spec(const Checkpoint& ckpt, const fs::path& input, const fs::path& explicit_config) {
  if (!explicit_config.empty()) return spec_from_any_config(read_json(explicit_config), ckpt, explicit_config.string());
  const fs::path folder = input_folder(input);
  std::error_code ec;
  for (const char* name : {"config.json", "params.json", "open_lm_config.json"}) {
    const fs::path p = folder / name;
    if (fs::is_regular_file(p, ec)) return spec_from_any_config(read_json(p), ckpt, p.string());
  }
  if (ckpt.format_metadata.contains("gguf")) {
    ModelSpec s = spec_from_gguf_metadata(ckpt.format_metadata["gguf"], input.string());
    if (s.vocab == 0) s.vocab = rows_of_first(ckpt, {"token_embd.weight"});
    return s;
  }
  throw bad_input("layout.301", {input.string(), {}, {}},
                  "no model config found (config.json, params.json or open_lm_config.json next to the input); "
                  "give --model-config");
}

LayoutResult apply_layout(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request) {
  LayoutResult r;
  r.spec = discover_model_spec(ckpt, input, request.model_config);
  const Convention& from = request.from_layout.empty() ? detect_convention(ckpt, r.spec.architecture)
                                                        : convention_for(request.from_layout, r.spec.architecture);
  const Convention& to = convention_for(request.to_layout, r.spec.architecture);
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
  if (to.layout == "gguf") {
    nlohmann::ordered_json kvs = gguf_llama_metadata(r.spec);
    std::set<std::string> keys;
    for (const auto& kv : kvs) keys.insert(kv["key"].get<std::string>());
    bool has_tokenizer = false;
    if (ckpt.format_metadata.contains("gguf") && ckpt.format_metadata["gguf"].is_array())
      for (const auto& kv : ckpt.format_metadata["gguf"])
        if (kv.is_object() && kv.contains("key") && kv["key"].is_string() && !keys.count(kv["key"].get<std::string>())) {
          has_tokenizer = has_tokenizer || kv["key"] == "tokenizer.ggml.model";
          kvs.push_back(kv);
        }
    std::error_code ec;
    if (!has_tokenizer && fs::is_directory(input, ec) && has_hf_tokenizer(input)) {
      for (auto& kv : hf_tokenizer_to_gguf_kvs(input, r.spec.vocab)) kvs.push_back(std::move(kv));
      has_tokenizer = true;
    }
    // llama.cpp needs tokenizer.ggml.model; "none" loads a vocab-less model (formats.md §2.9).
    if (!has_tokenizer) kvs.push_back({{"key", "tokenizer.ggml.model"}, {"type", "string"}, {"value", "none"}});
    r.checkpoint.format_metadata["gguf"] = std::move(kvs);
  } else {
    r.checkpoint.format_metadata.erase("gguf");  // model KVs of another layout would now lie
  }
  return r;
}

std::optional<LayoutResult> relayout_for_output(const Checkpoint& ckpt, const fs::path& input,
                                                const std::string& reader_format, const std::string& writer_format,
                                                const LayoutRequest& request) {
  LayoutRequest r = request;
  const bool implied = r.to_layout.empty();
  if (implied && writer_format == "gguf" && reader_format != "gguf") r.to_layout = "gguf";
  if (implied && reader_format == "gguf" && writer_format != "gguf") r.to_layout = "hf";
  if (r.to_layout.empty()) {
    if (!r.from_layout.empty() || !r.model_config.empty())
      throw usage_error("usage.layout", "--from-layout and --model-config need --layout");
    return std::nullopt;
  }
  try {
    return apply_layout(ckpt, input, r);
  } catch (const Error& e) {
    // An implied re-layout is skipped (tensors keep their names) when the input
    // is not a model supra knows: no config, unknown architecture, unknown names.
    if (implied && (e.id() == "layout.301" || e.id() == "layout.009" || e.id() == "spec.103")) return std::nullopt;
    throw;
  }
}

std::vector<std::pair<std::string, std::string>> layout_side_files(const LayoutResult& r, const fs::path& input) {
  std::string torch_dtype;
  for (const auto& t : r.checkpoint.tensors)
    if (dtype_is_float(t->info().dtype)) {
      torch_dtype = std::string(dtype_torch_name(t->info().dtype));
      break;
    }
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  const bool folder_input = fs::is_directory(input, ec);
  const std::string layout = find_convention(r.to_convention).layout;
  const std::string from_layout = find_convention(r.from_convention).layout;
  if (layout == "hf") {
    const fs::path own = input / "config.json";
    if (folder_input && from_layout == "hf" && fs::is_regular_file(own, ec))
      files.emplace_back("config.json", read_text(own, kMaxConfigBytes));
    else
      files.emplace_back("config.json", hf_config_from_spec(r.spec, torch_dtype).dump(2) + "\n");
  } else if (layout == "meta") {
    files.emplace_back("params.json", meta_params_from_spec(r.spec).dump(2) + "\n");
  } else if (layout == "open_lm") {
    files.emplace_back("open_lm_config.json", open_lm_config_from_spec(r.spec).dump(2) + "\n");
  }
  if (folder_input && layout != "gguf")
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                             "vocab.json", "merges.txt", "added_tokens.json", "generation_config.json"})
      if (fs::is_regular_file(input / name, ec)) files.emplace_back(name, read_text(input / name, kMaxSideFileBytes));
  // A GGUF's vocabulary (tokenizer.ggml.*) becomes tokenizer.json + tokenizer_config.json.
  if (!folder_input && layout == "hf" && from_layout == "gguf")
    for (auto& f : hf_tokenizer_files_from_gguf(gguf_kvs_to_json(parse_gguf(input).kvs), input.string()))
      files.push_back(std::move(f));
  return files;
}

void write_side_files(const fs::path& folder, const std::vector<std::pair<std::string, std::string>>& files, bool force) {
  if (files.empty()) return;
  OutputTransaction tx(folder, force);
  for (const auto& [name, text] : files) {
    const int fd = tx.create(name);
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) throw io_error("io.write", {(folder / name).string(), {}, {}}, "write failed");
      done += size_t(n);
    }
  }
  tx.commit();
}

}  // namespace supra
