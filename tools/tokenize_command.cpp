// supra tokenize MODEL (--text FILE | --prompt S) [--json] [--no-special | --no-add-special]
// supra tokenize MODEL --batch STRINGS.json [--no-special | --no-add-special]
// supra detokenize MODEL (--ids '[1,2,3]' | --ids-file FILE) [--keep-special] [--json]
#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "schema/error.hpp"
#include "tokenizer/utf8.hpp"
#include "tools/commands.hpp"
#include "tools/model_tokenizer.hpp"
#include "tools/escape_text.hpp"

namespace supra::cli {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("io.open", {path, {}, {}}, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A piece of text for a table cell: control characters and invalid bytes escaped.
std::string printable(const std::string& bytes) { return escape_control_chars(utf8_lossy(bytes)); }

// "[1, 2, 3]", "1 2 3", "1,2,3", or {"ids": [...]} (tokenize --json output).
std::vector<uint32_t> parse_ids(const std::string& text, const std::string& where) {
  std::string s = text;
  try {
    const auto j = nlohmann::json::parse(s);
    const auto& list = j.is_object() && j.contains("ids") ? j["ids"] : j;
    if (list.is_array()) return list.get<std::vector<uint32_t>>();
  } catch (const nlohmann::json::exception&) {
  }
  for (char& c : s)
    if (c == ',' || c == '[' || c == ']') c = ' ';
  std::istringstream in(s);
  std::vector<uint32_t> ids;
  std::string word;
  while (in >> word) {
    size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v > 0xFFFFFFFFul) throw usage_error("usage.ids", where + ": '" + word + "' is not a token id");
    ids.push_back(uint32_t(v));
  }
  return ids;
}

nlohmann::ordered_json ids_json(const Tokenizer& tok, const std::vector<uint32_t>& ids) {
  nlohmann::ordered_json j;
  j["ids"] = ids;
  nlohmann::ordered_json pieces = nlohmann::ordered_json::array();
  for (const uint32_t id : ids) pieces.push_back(utf8_lossy(tok.token_string(id)));
  j["pieces"] = std::move(pieces);
  return j;
}

// A JSON array of id arrays, or nullopt.
std::optional<std::vector<std::vector<uint32_t>>> parse_id_lists(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.is_array() && !j.empty() && j[0].is_array()) return j.get<std::vector<std::vector<uint32_t>>>();
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

void add_tokenize(CLI::App& app, Action& action) {
  struct Args {
    std::string model, text_file, prompt, batch;
    bool json = false, no_special = false, no_add_special = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Turn text into the model's token ids (and show each token)");
  cmd->add_option("model", a->model, "Hugging Face folder (tokenizer.json), .gguf, or a weights file beside tokenizer.json")->required();
  auto* text = cmd->add_option("--text", a->text_file, "File whose bytes are the text (UTF-8)");
  auto* prompt = cmd->add_option("--prompt", a->prompt, "The text itself");
  auto* batch = cmd->add_option("--batch", a->batch,
                                "JSON file with an array of strings: prints a JSON array of {\"ids\", \"pieces\"}, one per string");
  text->excludes(prompt);
  batch->excludes(text)->excludes(prompt);
  cmd->add_flag("--json", a->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  cmd->add_flag("--no-special", a->no_special,
                "Add no BOS/EOS, and read special tokens written in the text as plain text");
  cmd->add_flag("--no-add-special", a->no_add_special,
                "Add no BOS/EOS, but still read special tokens written in the text as those tokens");
  cmd->callback([a, text, prompt, batch, &action] {
    if (text->count() + prompt->count() + batch->count() != 1)
      throw CLI::ValidationError("tokenize", "give --text FILE, --prompt TEXT or --batch FILE");
    action = [a, from_file = text->count() > 0, from_batch = batch->count() > 0] {
      const Tokenizer tok = load_model_tokenizer(a->model);
      EncodeOptions options;
      options.add_special = !a->no_special && !a->no_add_special;
      options.parse_special = !a->no_special;
      if (from_batch) {
        nlohmann::json list;
        try {
          list = nlohmann::json::parse(read_file(a->batch));
        } catch (const nlohmann::json::exception& e) {
          throw bad_input("tokenize.101", {a->batch, {}, {}}, std::string("not valid JSON: ") + e.what());
        }
        if (!list.is_array()) throw bad_input("tokenize.102", {a->batch, {}, {}}, "expected a JSON array of strings");
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (size_t i = 0; i < list.size(); ++i) {
          if (!list[i].is_string()) throw bad_input("tokenize.102", {a->batch, {}, {}}, "entry " + std::to_string(i) + " is not a string");
          out.push_back(ids_json(tok, tok.encode(list[i].get<std::string>(), options)));
        }
        std::cout << out.dump() << "\n";
        return 0;
      }
      const std::string input = from_file ? read_file(a->text_file) : a->prompt;
      const std::vector<uint32_t> ids = tok.encode(input, options);
      if (a->json) {
        std::cout << ids_json(tok, ids).dump() << "\n";
        return 0;
      }
      fmt::print("{}: {} tokens from {} bytes\n", tok.describe(), ids.size(), input.size());
      fmt::print("{:>6}  {:>7}  {:<24}  {}\n", "#", "ID", "TOKEN", "TEXT");
      for (size_t i = 0; i < ids.size(); ++i)
        fmt::print("{:>6}  {:>7}  {:<24}  \"{}\"\n", i, ids[i], printable(tok.token_string(ids[i])),
                   printable(tok.token_bytes(ids[i], false)));
      return 0;
    };
  });
}

void add_detokenize(CLI::App& app, Action& action) {
  struct Args {
    std::string model, ids, ids_file;
    bool json = false, keep_special = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("detokenize", "Turn token ids back into text");
  cmd->add_option("model", a->model, "Hugging Face folder (tokenizer.json), .gguf, or a weights file beside tokenizer.json")->required();
  auto* ids = cmd->add_option("--ids", a->ids, "Token ids: '[1, 2, 3]', '1 2 3' or '1,2,3'");
  auto* file = cmd->add_option("--ids-file", a->ids_file,
                               "File with the ids (the same forms, or tokenize --json output); "
                               "[[...], [...]] prints a JSON array of texts");
  ids->excludes(file);
  cmd->add_flag("--keep-special", a->keep_special, "Write special tokens (BOS, EOS, ...) as their text instead of leaving them out");
  cmd->add_flag("--json", a->json, "Print {\"text\": ...}");
  cmd->callback([a, ids, file, &action] {
    if (ids->count() + file->count() != 1) throw CLI::ValidationError("detokenize", "give --ids or --ids-file");
    action = [a, from_file = file->count() > 0] {
      const Tokenizer tok = load_model_tokenizer(a->model);
      const std::string input = from_file ? read_file(a->ids_file) : a->ids;
      if (auto lists = parse_id_lists(input)) {  // [[...], [...]]: one text per list, as a JSON array
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& ids : *lists) out.push_back(tok.decode(ids, !a->keep_special));
        std::cout << out.dump() << "\n";
        return 0;
      }
      const std::vector<uint32_t> list = parse_ids(input, from_file ? a->ids_file : "--ids");
      const std::string text = tok.decode(list, !a->keep_special);
      if (a->json) std::cout << nlohmann::ordered_json{{"text", text}}.dump() << "\n";
      else std::cout << text;
      return 0;
    };
  });
}

}  // namespace

void add_tokenize_commands(CLI::App& app, Action& action) {
  add_tokenize(app, action);
  add_detokenize(app, action);
}

}  // namespace supra::cli
