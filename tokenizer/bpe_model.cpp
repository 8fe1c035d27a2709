#include "tokenizer/bpe_model.hpp"

#include <queue>

#include "schema/error.hpp"
#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }

std::string byte_token_text(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

struct Candidate {
  double key;  // lower merges first
  int32_t left, right;
  uint32_t size;  // bytes of the merged text, to recognize an entry made stale by another merge
  uint32_t id;
  bool operator>(const Candidate& o) const { return key != o.key ? key > o.key : left > o.left; }
};

}  // namespace

BpeModel::BpeModel(const TokenizerSpec& spec) : spec_(spec) {
  index_.reserve(spec.tokens.size());
  for (uint32_t id = 0; id < spec.tokens.size(); ++id)
    if (!spec.tokens[id].empty()) index_.insert_or_assign(spec.tokens[id], id);  // a repeated string: the last id, as llama.cpp
  for (int b = 0; b < 256; ++b) {
    auto id = find(byte_token_text(b));
    byte_ids_[b] = id ? int64_t(*id) : -1;
  }
  if (spec.merge_rule != MergeRule::Ranks) return;
  merges_.reserve(spec.merges.size());
  for (uint32_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto [a, b] = spec.merges[rank];
    auto merged = find(spec.tokens.at(a) + spec.tokens.at(b));
    if (!merged)
      throw bad_input("tokenizer.210", {spec.source, {}, {}},
                      "merge " + std::to_string(rank) + " ('" + spec.tokens[a] + "' '" + spec.tokens[b] +
                          "') makes a string that is not a token");
    if (spec.repeated_merge_keeps_first) merges_.try_emplace(pair_key(a, b), rank, *merged);
    else merges_.insert_or_assign(pair_key(a, b), std::make_pair(rank, *merged));
  }
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& syms) const {
  const bool scores = spec_.merge_rule == MergeRule::Scores;
  size_t pos = 0;
  while (pos < word.size()) {
    size_t n = utf8_sequence_length(static_cast<unsigned char>(word[pos]));
    if (n == 0 || pos + n > word.size()) n = 1;
    const auto b = uint32_t(pos);
    auto push = [&](uint32_t begin, uint32_t len, int64_t id) {
      syms.push_back({begin, len, id, int32_t(syms.size()) - 1, int32_t(syms.size()) + 1});
    };
    pos += n;
    auto id = find(word.substr(b, n));
    // llama.cpp keeps every character as a symbol and resolves unknown ones at the end (emit).
    if (id || scores || spec_.unknown_char == UnknownChar::Drop) {
      push(b, uint32_t(n), id ? int64_t(*id) : -1);
      continue;
    }
    if (spec_.unknown_char == UnknownChar::ByteFallback) {
      bool all = true;
      for (size_t k = 0; k < n; ++k) all = all && byte_ids_[static_cast<unsigned char>(word[b + k])] >= 0;
      if (all) {
        for (size_t k = 0; k < n; ++k) push(uint32_t(b + k), 1, byte_ids_[static_cast<unsigned char>(word[b + k])]);
        continue;
      }
    }
    if (!spec_.unk_id) continue;  // Hugging Face drops a character it has no token for
    if (spec_.fuse_unk && !syms.empty() && syms.back().id == int64_t(*spec_.unk_id)) {
      syms.back().len += uint32_t(n);
      continue;
    }
    push(b, uint32_t(n), *spec_.unk_id);
  }
  if (!syms.empty()) syms.back().next = -1;
}

bool BpeModel::pair_merge(std::string_view word, const Symbol& l, const Symbol& r, double& key, uint32_t& id) const {
  if (spec_.merge_rule == MergeRule::Ranks) {
    if (l.id < 0 || r.id < 0) return false;
    auto it = merges_.find(pair_key(uint32_t(l.id), uint32_t(r.id)));
    if (it == merges_.end()) return false;
    key = it->second.first;
    id = it->second.second;
    return true;
  }
  auto found = find(word.substr(l.begin, l.len + r.len));
  if (!found) return false;
  key = -double(spec_.scores[*found]);
  id = *found;
  return true;
}

void BpeModel::emit(std::string_view word, const Symbol& s, std::vector<uint32_t>& out) const {
  if (s.id >= 0) {
    out.push_back(uint32_t(s.id));
    return;
  }
  // Only llama.cpp's rules leave unresolved symbols: SentencePiece falls back
  // to byte tokens, BPE drops what it cannot spell.
  if (spec_.unknown_char == UnknownChar::Drop) return;
  for (uint32_t k = 0; k < s.len; ++k) {
    const int64_t b = byte_ids_[static_cast<unsigned char>(word[s.begin + k])];
    if (b >= 0) out.push_back(uint32_t(b));
    else if (spec_.unk_id) out.push_back(*spec_.unk_id);
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<uint32_t>& out) const {
  if (word.empty()) return;
  if (spec_.ignore_merges)
    if (auto id = find(word)) {
      out.push_back(*id);
      return;
    }
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Candidate> heap_storage;
  syms.clear();
  initial_symbols(word, syms);
  if (syms.empty()) return;
  heap_storage.clear();
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(std::greater<>{}, std::move(heap_storage));
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    double key = 0;
    uint32_t id = 0;
    if (pair_merge(word, syms[left], syms[right], key, id))
      queue.push({key, left, right, syms[left].len + syms[right].len, id});
  };
  for (int32_t i = 0; i + 1 < int32_t(syms.size()); ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = syms[c.left];
    Symbol& r = syms[c.right];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.size) continue;  // stale
    l.len += r.len;
    l.id = c.id;
    l.next = r.next;
    r.len = 0;
    if (r.next >= 0) syms[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int32_t i = 0; i >= 0; i = syms[i].next) emit(word, syms[i], out);
}

}  // namespace supra
