"""A small byte-level BPE tokenizer: trained by merge frequency, written as a
Hugging Face tokenizer.json (model BPE, ByteLevel pre-tokenizer and decoder),
the format supra converts to llama.cpp's GGUF vocabulary. Used by
tools/train_demo_model.py; written here, not taken from a tokenizer library.

The pre-tokenizer is GPT-2's split regex. Python's `re` has no \\p{L} / \\p{N},
so the pattern below spells them as ASCII classes: exact for ASCII text, which
is all this trainer accepts (encode() refuses anything else)."""
import collections
import re

GPT2_SPLIT_ASCII = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def byte_to_unicode():
    """GPT-2's map of the 256 bytes to printable code points: printable Latin-1
    bytes map to themselves, the others to U+0100 onwards in byte order."""
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TOKEN = byte_to_unicode()


def _require_ascii(text):
    if not text.isascii():
        raise ValueError("this BPE trainer's pre-tokenizer is exact for ASCII text only")


def pre_tokens(text):
    """GPT-2 pre-tokens as byte-level symbol strings."""
    _require_ascii(text)
    return ["".join(BYTE_TOKEN[b] for b in piece.encode()) for piece in GPT2_SPLIT_ASCII.findall(text)]


def _merge_word(symbols, pair, joined):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(joined)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def train(texts, n_tokens):
    """Merges of the most frequent adjacent pair, greedily, until the byte
    tokens and the merged ones number n_tokens (two merges may make the same
    string: it is one token). Ties go to the smallest pair in string order, so
    the result is deterministic. Pair counts are updated only for the words a
    merge touches."""
    counts = collections.Counter()
    for text in texts:
        counts.update(pre_tokens(text))
    words = [tuple(w) for w in counts]
    freq = [counts[w] for w in counts]
    pairs, where = collections.Counter(), collections.defaultdict(set)
    for i, word in enumerate(words):
        for pair in zip(word, word[1:]):
            pairs[pair] += freq[i]
            where[pair].add(i)
    merges, made = [], set(BYTE_TOKEN.values())
    while len(made) < n_tokens and pairs:
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        joined = best[0] + best[1]
        made.add(joined)
        for i in sorted(where.pop(best)):
            for pair in zip(words[i], words[i][1:]):
                pairs[pair] -= freq[i]
                if pairs[pair] <= 0:
                    del pairs[pair]
            words[i] = _merge_word(words[i], best, joined)
            for pair in zip(words[i], words[i][1:]):
                pairs[pair] += freq[i]
                where[pair].add(i)
    return merges


class Tokenizer:
    """Byte tokens get ids 0..255 (id = byte value), merges 256.. in merge
    order, then the special tokens."""

    def __init__(self, merges, specials):
        self.merges = merges
        self.rank = {pair: i for i, pair in enumerate(merges)}
        self.vocab = {BYTE_TOKEN[b]: b for b in range(256)}
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.specials = {text: len(self.vocab) + i for i, text in enumerate(specials)}
        self._cache = {}

    @property
    def size(self):
        return len(self.vocab) + len(self.specials)

    def _encode_word(self, word):
        if word not in self._cache:
            symbols = tuple(word)
            while len(symbols) > 1:
                ranked = [(self.rank[p], p) for p in zip(symbols, symbols[1:]) if p in self.rank]
                if not ranked:
                    break
                _, pair = min(ranked)
                symbols = _merge_word(symbols, pair, pair[0] + pair[1])
            self._cache[word] = [self.vocab[s] for s in symbols]
        return self._cache[word]

    def encode(self, text):
        return [i for word in pre_tokens(text) for i in self._encode_word(word)]

    def decode(self, ids):
        inverse = {v: k for k, v in self.vocab.items()}
        unicode_to_byte = {c: b for b, c in BYTE_TOKEN.items()}
        return bytes(unicode_to_byte[c] for i in ids if i in inverse for c in inverse[i]).decode("utf-8", "replace")

    def tokenizer_json(self):
        """The Hugging Face tokenizers file (same shape as schema/demo_model.cpp's)."""
        added = [{"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for text, i in self.specials.items()]
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": self.vocab, "merges": [a + " " + b for a, b in self.merges]},
        }
