#include "tools/model_tokenizer.hpp"

#include "converters/format.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "schema/error.hpp"

namespace supra::cli {

Tokenizer load_model_tokenizer(const std::filesystem::path& model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(model, ec)) return Tokenizer::from_model_dir(model);
  if (!fs::exists(model, ec)) throw io_error("io.open", {model.string(), {}, {}}, "no such file or folder");
  if (detect_input_format(model).name == "gguf")
    return Tokenizer::from_gguf_metadata(gguf_kvs_to_json(parse_gguf(model).kvs), model.string());
  const fs::path folder = model.has_parent_path() ? model.parent_path() : fs::path(".");
  return Tokenizer::from_model_dir(folder);
}

}  // namespace supra::cli
