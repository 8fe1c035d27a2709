#include "tokenizer/pre_tokenizer.hpp"

#include <algorithm>

#include "tokenizer/byte_level.hpp"

namespace supra {
namespace {

struct Part {
  Span span;
  bool delimiter;
};

// The delimiter behaviors of tokenizers' NormalizedString::split, over the
// list of (span, is_delimiter) parts covering the text.
std::vector<Span> apply_behavior(const std::vector<Part>& parts, SplitBehavior behavior) {
  std::vector<Span> out;
  bool previous_delimiter = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const Part& p : parts) out.push_back(p.span);
      break;
    case SplitBehavior::Removed:
      for (const Part& p : parts)
        if (!p.delimiter) out.push_back(p.span);
      break;
    case SplitBehavior::Contiguous:
      for (const Part& p : parts) {
        if (p.delimiter == previous_delimiter && !out.empty()) out.back().end = p.span.end;
        else out.push_back(p.span);
        previous_delimiter = p.delimiter;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Part& p : parts) {
        if (p.delimiter && !previous_delimiter && !out.empty()) out.back().end = p.span.end;
        else out.push_back(p.span);
        previous_delimiter = p.delimiter;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->delimiter && !previous_delimiter && !out.empty()) out.back().begin = it->span.begin;
        else out.push_back(it->span);
        previous_delimiter = it->delimiter;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

void byte_level_step(const PreTokenizerStep& step, std::vector<Piece>& pieces) {
  std::vector<Piece> next;
  next.reserve(pieces.size() * 2);
  for (Piece& p : pieces) {
    if (step.add_prefix_space && p.text.rfind(' ', 0) != 0) p.text.insert(0, 1, ' ');
    if (step.regex) split_piece(p, *step.regex, SplitBehavior::Isolated, false, next);
    else next.push_back(std::move(p));
  }
  for (Piece& p : next) p.text = to_byte_level(p.text);
  pieces = std::move(next);
}

void metaspace_step(const PreTokenizerStep& step, std::vector<Piece>& pieces) {
  std::vector<Piece> next;
  const std::string& rep = step.replacement;
  for (Piece& p : pieces) {
    std::string text;
    text.reserve(p.text.size() + rep.size());
    for (const char c : p.text) {
      if (c == ' ') text += rep;
      else text += c;
    }
    const bool starts = text.rfind(rep, 0) == 0;
    if (!starts && (step.prepend_scheme == PrependScheme::Always ||
                    (step.prepend_scheme == PrependScheme::First && p.at_start)))
      text.insert(0, rep);
    if (!step.split) {
      next.push_back({std::move(text), p.at_start});
      continue;
    }
    // Split before every replacement character (MergedWithNext).
    size_t begin = 0;
    for (size_t pos = text.find(rep, rep.size()); pos != std::string::npos; pos = text.find(rep, pos + rep.size())) {
      if (pos > begin) next.push_back({text.substr(begin, pos - begin), p.at_start && begin == 0});
      begin = pos;
    }
    if (begin < text.size()) next.push_back({text.substr(begin), p.at_start && begin == 0});
  }
  pieces = std::move(next);
}

}  // namespace

void split_piece(const Piece& piece, const SplitRegex& regex, SplitBehavior behavior, bool invert,
                 std::vector<Piece>& out) {
  thread_local std::vector<Span> matches;
  matches.clear();
  regex.find_all(piece.text, matches);
  std::vector<Part> parts;
  parts.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const Span& m : matches) {
    if (m.begin > prev) parts.push_back({{prev, m.begin}, invert});
    parts.push_back({m, !invert});
    prev = m.end;
  }
  if (prev < piece.text.size()) parts.push_back({{prev, piece.text.size()}, invert});
  for (const Span& s : apply_behavior(parts, behavior))
    if (s.end > s.begin) out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_start && s.begin == 0});
}

void pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::vector<Piece>& pieces) {
  for (const PreTokenizerStep& step : steps) {
    switch (step.kind) {
      case PreTokenizerStep::Kind::Split: {
        std::vector<Piece> next;
        next.reserve(pieces.size() * 2);
        for (const Piece& p : pieces) split_piece(p, *step.regex, step.behavior, step.invert, next);
        pieces = std::move(next);
        break;
      }
      case PreTokenizerStep::Kind::ByteLevel: byte_level_step(step, pieces); break;
      case PreTokenizerStep::Kind::Metaspace: metaspace_step(step, pieces); break;
    }
  }
  std::erase_if(pieces, [](const Piece& p) { return p.text.empty(); });
}

}  // namespace supra
