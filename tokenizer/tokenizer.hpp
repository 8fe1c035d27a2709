#pragma once
// Text in, token ids out, and back: a model's own tokenizer, read from its
// Hugging Face files (tokenizer.json + tokenizer_config.json) or from the
// tokenizer.ggml.* keys of a GGUF, so the engine commands can take text.
//
//   Tokenizer tok = Tokenizer::from_model_dir("./hf-model");
//   std::vector<uint32_t> ids = tok.encode("Hello world");          // BOS/EOS as the model adds them
//   std::string text = tok.decode(ids);                             // special tokens left out
//   StreamDecoder out(tok);                                         // generation: text as ids arrive
//   for (uint32_t id : generated) std::fputs(out.push(id).c_str(), stdout);
//   std::fputs(out.finish().c_str(), stdout);
//
// The tokenizer/ folder sits between schema/ and converters/: it uses only
// schema/ (errors), nlohmann-json, PCRE2 and ICU, so converters/ can call it
// (GGUF -> Hugging Face writes tokenizer.json with it) and validate/ and
// tools/ can run it. It reads tokenizer.json itself and takes GGUF keys in
// the typed JSON form the GGUF reader leaves in format_metadata["gguf"], so
// it needs no reader of its own.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

struct EncodeOptions {
  bool add_special = true;    // the BOS / EOS (post-processor template) the model adds around text
  bool parse_special = true;  // special tokens written in the text become those tokens
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerSpec spec);

  // tokenizer.json (required) and tokenizer_config.json (optional) in `dir`.
  // Throws bad_input("tokenizer.2xx") naming the file and JSON path.
  static Tokenizer from_model_dir(const std::filesystem::path& dir);
  static Tokenizer from_hf_json(const nlohmann::json& tokenizer_json, const nlohmann::json& tokenizer_config,
                                const std::string& source);
  // `kvs`: the format_metadata["gguf"] array ([{"key", "type", "value"}, ...]).
  static Tokenizer from_gguf_metadata(const nlohmann::ordered_json& kvs, const std::string& source = "");

  // Throws bad_input("tokenizer.301") when `text` is not valid UTF-8.
  std::vector<uint32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Valid UTF-8 (invalid byte sequences become U+FFFD, as in Hugging Face).
  // Throws bad_input("tokenizer.302") for an id outside the vocabulary.
  std::string decode(std::span<const uint32_t> ids, bool skip_special = true) const;

  // The token as the vocabulary spells it ("Ġthe", "▁the", "<0x0A>", "<s>").
  const std::string& token_string(uint32_t id) const;
  // The bytes the token stands for in decoded text ("" for a skipped special token).
  std::string token_bytes(uint32_t id, bool skip_special = true) const;
  bool is_special(uint32_t id) const;
  size_t vocab_size() const;
  const TokenizerSpec& spec() const;
  std::string describe() const;  // "byte-level BPE (tokenizer.json), 50257 tokens"

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

// Decodes ids one at a time and returns only complete UTF-8: a character
// split over several byte tokens is held back until its last byte arrives.
// The concatenation of every push() and finish() equals decode() of all ids.
// `text_start`: the ids begin the text, so the space a SentencePiece
// tokenizer put in front is taken off again; pass false for the ids
// generated after a prompt (" The" must keep its space there).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true, bool text_start = true);
  std::string push(uint32_t id);
  // What is still held back (an unfinished sequence becomes U+FFFD).
  std::string finish();

 private:
  std::string take(std::string bytes);
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
  int strip_spaces_;
};

}  // namespace supra
