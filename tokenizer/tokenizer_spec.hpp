#pragma once
// Everything that decides how text becomes token ids and back, as plain
// data: the loaders fill it from tokenizer.json (Hugging Face semantics) or
// from GGUF tokenizer.ggml.* keys (llama.cpp semantics), the tokenizer runs
// it, and the tokenizer.json writer serializes it. Where the two ecosystems
// behave differently on the same vocabulary (merge rule, how added tokens
// are found, leading space on decode), the difference is a field here, set
// by the loader, not a branch on where the data came from.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/split_regex.hpp"

namespace supra {

// llama.cpp's token types (llama_token_type, gguf-py TokenType).
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

// How adjacent symbols of a word are merged.
enum class MergeRule {
  Ranks,   // Hugging Face BPE: the listed pair of lowest rank first
  Scores,  // llama.cpp SentencePiece: any adjacent pair whose text is a token, highest score first
};

// What a character the vocabulary lacks becomes.
enum class UnknownChar {
  ByteFallback,  // its UTF-8 bytes as <0xXX> tokens (else the unk token)
  Unk,           // the unk token (fused over a run when fuse_unk)
  Drop,          // nothing (llama.cpp BPE)
};

struct NormalizerStep {
  enum class Kind { Prepend, Replace, Unicode } kind = Kind::Replace;
  std::string text;                          // Prepend: what to put in front; Replace: the literal pattern
  std::shared_ptr<const SplitRegex> regex;   // Replace with a regex pattern (else `text` is literal)
  std::string content;                       // Replace: the replacement
  std::string form;                          // Unicode: NFC, NFD, NFKC, NFKD
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
enum class PrependScheme { Always, First, Never };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace } kind = Kind::Split;
  // Split (also Digits, as a \p{N} split), and ByteLevel's own regex when use_regex.
  std::shared_ptr<const SplitRegex> regex;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  // ByteLevel
  bool add_prefix_space = false;
  // Metaspace
  std::string replacement = "\xE2\x96\x81";  // U+2581
  PrependScheme prepend_scheme = PrependScheme::Always;
  bool split = true;
};

struct AddedToken {
  std::string content;
  uint32_t id = 0;
  bool special = false;      // skipped by decode(skip_special); not matched when parse_special is off
  bool lstrip = false, rstrip = false, single_word = false;
  bool normalized = false;   // matched in the normalized text (Hugging Face)
};

enum class AddedTokenSearch {
  LeftmostLongest,  // Hugging Face: scan left to right, longest token at the first position that has one
  LongestFirst,     // llama.cpp: longest token first, every occurrence, then the next longest
};

// How ids become text again.
struct DecodeRules {
  bool byte_level = false;     // vocabulary strings are in the GPT-2 byte alphabet
  bool metaspace = false;      // U+2581 stands for a space
  bool byte_tokens = false;    // <0xXX> tokens are single bytes
  int strip_leading_spaces = 0;  // spaces to drop from the start of the decoded text
  // Hugging Face runs added tokens through the decoder too, a normalized one
  // as its normalized text ("<N>" as "▁<N>", so " <N>"); llama.cpp writes
  // their text as it is.
  bool added_tokens_through_decoder = false;
};

struct TokenizerSpec {
  std::string source;            // file it was read from (for messages)
  std::string origin;            // "tokenizer.json" or "gguf"
  std::vector<std::string> tokens;  // id -> vocabulary string; "" for ids nothing names
  std::vector<std::string> file_tokens;  // the strings as stored, when `tokens` differs (GGUF: llama.cpp's view)
  std::vector<TokenType> types;     // id -> type (GGUF token_type; derived for tokenizer.json)
  std::vector<float> scores;        // MergeRule::Scores
  std::vector<std::pair<uint32_t, uint32_t>> merges;  // MergeRule::Ranks, in rank order (left id, right id)
  MergeRule merge_rule = MergeRule::Ranks;
  UnknownChar unknown_char = UnknownChar::Unk;
  std::optional<uint32_t> unk_id;
  bool fuse_unk = false;
  bool ignore_merges = false;    // a word that is a token is that token, merges or not
  bool repeated_merge_keeps_first = false;  // a pair listed twice: llama.cpp keeps its first rank, tokenizers its last

  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::vector<AddedToken> added_tokens;
  AddedTokenSearch added_search = AddedTokenSearch::LeftmostLongest;

  std::vector<uint32_t> prefix_ids, suffix_ids;  // added around the text by encode(add_special)
  std::optional<uint32_t> bos_id, eos_id, pad_id;
  bool add_bos = false, add_eos = false;  // as declared (prefix_ids / suffix_ids are what is applied)
  DecodeRules decode;

  // GGUF facts kept for the GGUF -> tokenizer.json writer.
  std::string gguf_model;  // "gpt2", "llama"
  std::string gguf_pre;    // tokenizer.ggml.pre
  bool add_space_prefix = false;
};

}  // namespace supra
