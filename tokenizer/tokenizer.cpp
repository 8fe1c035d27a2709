#include "tokenizer/tokenizer.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "schema/error.hpp"
#include "tokenizer/added_tokens.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

// Hugging Face matches added tokens in two passes: those with normalized=false
// in the raw text, the others (by their normalized spelling) in the
// normalized text.
AddedTokenMatcher make_matcher(const TokenizerSpec& spec, bool normalized_pass) {
  std::vector<std::string> patterns;
  std::vector<const AddedToken*> tokens;
  for (const AddedToken& t : spec.added_tokens) {
    if (t.normalized != normalized_pass) continue;
    std::string pattern = t.content;
    if (normalized_pass) normalize(spec.normalizer, pattern);
    patterns.push_back(std::move(pattern));
    tokens.push_back(&t);
  }
  return AddedTokenMatcher(std::move(patterns), std::move(tokens), spec.added_search);
}

int byte_token_value(const std::string& t) {  // "<0x0A>" -> 10, else -1
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

struct Tokenizer::State {
  TokenizerSpec spec;
  BpeModel model;
  AddedTokenMatcher raw_matcher, normalized_matcher;
  std::unordered_map<uint32_t, const AddedToken*> added_by_id;
  std::unordered_map<uint32_t, std::string> added_decode_text;  // what the decoder sees of each added token

  explicit State(TokenizerSpec s)
      : spec(std::move(s)), model(spec), raw_matcher(make_matcher(spec, false)), normalized_matcher(make_matcher(spec, true)) {
    for (const AddedToken& t : spec.added_tokens) {
      added_by_id.emplace(t.id, &t);
      std::string text = t.content;
      if (spec.decode.added_tokens_through_decoder && t.normalized) normalize(spec.normalizer, text);
      added_decode_text.emplace(t.id, std::move(text));
    }
  }
  const AddedToken* added(uint32_t id) const {
    auto it = added_by_id.find(id);
    return it == added_by_id.end() ? nullptr : it->second;
  }
};

Tokenizer::Tokenizer(TokenizerSpec spec) : state_(std::make_shared<const State>(std::move(spec))) {}

const TokenizerSpec& Tokenizer::spec() const { return state_->spec; }
size_t Tokenizer::vocab_size() const { return state_->spec.tokens.size(); }

std::string Tokenizer::describe() const {
  const TokenizerSpec& s = state_->spec;
  const char* family = s.decode.byte_level ? "byte-level BPE"
                       : s.merge_rule == MergeRule::Scores ? "SentencePiece BPE (scores)"
                                                            : "SentencePiece-style BPE";
  return fmt::format("{} ({}), {} tokens", family, s.origin, s.tokens.size());
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (const size_t bad = invalid_utf8_offset(text); bad != std::string_view::npos)
    throw bad_input("tokenizer.301", {}, fmt::format("text is not valid UTF-8 at byte {}", bad));
  const State& st = *state_;
  std::vector<uint32_t> ids;
  if (options.add_special) ids = st.spec.prefix_ids;
  std::vector<Segment> segments{{std::string(text), std::nullopt, true}};
  st.raw_matcher.split(segments, options.parse_special);
  std::vector<Segment> one;
  std::vector<Piece> pieces;
  for (Segment& seg : segments) {
    if (seg.token) {
      ids.push_back(*seg.token);
      continue;
    }
    normalize(st.spec.normalizer, seg.text);
    one.clear();
    one.push_back(std::move(seg));
    st.normalized_matcher.split(one, options.parse_special);
    for (Segment& part : one) {
      if (part.token) {
        ids.push_back(*part.token);
        continue;
      }
      if (part.text.empty()) continue;
      pieces.clear();
      pieces.push_back({std::move(part.text), part.at_start});
      pre_tokenize(st.spec.pre_tokenizer, pieces);
      for (const Piece& p : pieces) st.model.encode_word(p.text, ids);
    }
  }
  if (options.add_special) ids.insert(ids.end(), st.spec.suffix_ids.begin(), st.spec.suffix_ids.end());
  return ids;
}

const std::string& Tokenizer::token_string(uint32_t id) const {
  const TokenizerSpec& s = state_->spec;
  if (id >= s.tokens.size())
    throw bad_input("tokenizer.302", {s.source, {}, {}},
                    fmt::format("token id {} is outside the vocabulary of {} tokens", id, s.tokens.size()));
  if (const AddedToken* t = state_->added(id)) return t->content;
  return s.tokens[id];
}

bool Tokenizer::is_special(uint32_t id) const {
  const TokenizerSpec& s = state_->spec;
  if (const AddedToken* t = state_->added(id)) return t->special;
  return id < s.types.size() && (s.types[id] == TokenType::Control || s.types[id] == TokenType::Unknown);
}

std::string Tokenizer::token_bytes(uint32_t id, bool skip_special) const {
  token_string(id);  // checks the range
  const TokenizerSpec& s = state_->spec;
  if (skip_special && is_special(id)) return {};
  const bool added = state_->added(id) != nullptr;
  const std::string& text = added ? state_->added_decode_text.at(id) : s.tokens[id];
  if (added && !s.decode.added_tokens_through_decoder) return text;
  const TokenType type = added ? TokenType::Normal : id < s.types.size() ? s.types[id] : TokenType::Normal;
  if (type == TokenType::Unused) return {};
  if (s.decode.byte_tokens || type == TokenType::Byte)
    if (const int b = byte_token_value(text); b >= 0) return std::string(1, char(b));
  if (s.decode.byte_level) {
    if (auto bytes = from_byte_level(text)) return *bytes;
    return text;  // characters outside the byte map stand for themselves, as in tokenizers
  }
  if (s.decode.metaspace) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      if (text.compare(pos, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        pos += 3;
      } else {
        out += text[pos++];
      }
    }
    return out;
  }
  return text;
}

std::string Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special) const {
  StreamDecoder stream(*this, skip_special);
  std::string out;
  for (const uint32_t id : ids) out += stream.push(id);
  out += stream.finish();
  return out;
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special, bool text_start)
    : tokenizer_(&tokenizer),
      skip_special_(skip_special),
      strip_spaces_(text_start ? tokenizer.spec().decode.strip_leading_spaces : 0) {}

std::string StreamDecoder::take(std::string bytes) {
  // Leading spaces come off the start of the whole text only (tokenizers'
  // Strip decoder after Fuse), however many tokens it takes to reach them.
  size_t cut = 0;
  while (strip_spaces_ > 0 && cut < bytes.size()) {
    if (bytes[cut] != ' ') {
      strip_spaces_ = 0;
      break;
    }
    ++cut;
    --strip_spaces_;
  }
  pending_.append(bytes, cut);
  const size_t hold = unfinished_utf8_tail(pending_);
  std::string ready = utf8_lossy(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string StreamDecoder::push(uint32_t id) { return take(tokenizer_->token_bytes(id, skip_special_)); }

std::string StreamDecoder::finish() {
  std::string rest = utf8_lossy(pending_);
  pending_.clear();
  return rest;
}

}  // namespace supra
