#!/usr/bin/python3
"""supra's tokenizer against the reference implementations, id for id, on a
corpus of hard strings (tests/fixtures/tokenizers/hard_strings.json):

- a Hugging Face folder: Hugging Face's tokenizers, both the Rust library
  transformers uses (the `tokenizers` npm package's prebuilt binding) and
  tokenizers.js (`@huggingface/tokenizers`), on the same tokenizer.json;
- our GGUF of a model with that vocabulary: llama.cpp's tokenizer
  (node-llama-cpp, vocabulary-only load);
- GGUF -> Hugging Face: the tokenizer.json supra writes from the GGUF gives
  the Rust library the ids the original gave it (HF -> GGUF -> HF);
- decoding: ids -> text equals the references' decoding and, for text
  without special tokens in it, the original string.

Fixtures (tools/fixtures/make_tokenizer_fixtures.py): byte_level (GPT-2),
llama3 (Llama-3 split regex), spm (Llama-2 SentencePiece BPE with byte
fallback), spm_metaspace (the same with the Metaspace pre-tokenizer),
spm_flags (added tokens with lstrip, rstrip, single_word, normalized), and the
demo model's tokenizer. Where a reference is known to differ from the
implementation it stands for, the difference is listed in KNOWN with its
reason and checked to still be there (so the list cannot go stale).

usage: test_tokenizer.py PATH_TO_SUPRA"""
import json
import os
import unicodedata
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import tokenizer_model  # noqa: E402

SUPRA = sys.argv[1]
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizers")
HF_DIR = os.path.join(HERE, "hf_tokenizers")
LLAMA_DIR = os.path.join(HERE, "llama")
STRINGS = json.load(open(os.path.join(FIXTURES, "hard_strings.json"), encoding="utf-8"))
ENV = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")

def _word_char(c):
    """Rust regex's \\w: letters, marks, digits, connector punctuation."""
    return c.isalnum() or c == "_" or unicodedata.category(c)[0] == "M" or unicodedata.category(c) == "Pc"


def _cat_inside_a_word(s):
    return any((i > 0 and _word_char(s[i - 1])) or (i + 3 < len(s) and _word_char(s[i + 3]))
               for i in range(len(s)) if s.startswith("cat", i))


# Where a reference is known to differ from the implementation it stands for:
# (fixture, reference, which strings, why). Each such string is checked to
# still differ, so the list cannot go stale; all other strings must match.
KNOWN = [
    ("spm", "js-decode", lambda s: s == "bom\ufeffhere",
     "tokenizers.js decodes byte-fallback bytes with a TextDecoder that drops a leading U+FEFF; Rust keeps it"),
    ("spm_metaspace", "js-decode", lambda s: s == "bom\ufeffhere", "the same U+FEFF drop"),
    ("spm_flags", "js-decode", lambda s: s == "bom\ufeffhere", "the same U+FEFF drop"),
    ("spm", "llama.cpp-decode", lambda s: s == "<s>hi</s>",
     "llama.cpp lets the skipped <s> use up the one leading space it strips; tokenizers strips the first text's"),
    ("spm_flags", "js", _cat_inside_a_word, "tokenizers.js has no single_word: it finds 'cat' inside words"),
    ("spm_flags", "js+special", _cat_inside_a_word, "tokenizers.js has no single_word"),
    ("spm_flags", "js-decode", lambda s: s in (" <N>", "x <N> y"),
     "tokenizers.js decodes a normalized added token as its content; Rust as its normalized text (\u2581<N>)"),
]


def known(fixture, ref_name, s):
    for f, r, which, why in KNOWN:
        if f == fixture and r == ref_name and which(s):
            return why
    return None


# The demo folder asks for its BOS in tokenizer_config.json (add_bos_token) and
# has no post-processor; transformers and llama.cpp add it, the tokenizers
# library (Rust or JS) reads tokenizer.json only.
CONFIG_BOS_REASON = "add_bos_token in tokenizer_config.json, which tokenizers does not read"


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
    return r.stdout


def supra(*args):
    return run([SUPRA, *args]).decode("utf-8")


def supra_encode_all(model, tmp, flag):
    """Our ids for every string, through the CLI (`supra tokenize --batch F`)."""
    path = os.path.join(tmp, "strings.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(STRINGS, f)
    out = json.loads(supra("tokenize", model, "--batch", path, *([flag] if flag else [])))
    return [r["ids"] for r in out]


def supra_decode_all(model, tmp, id_lists):
    path = os.path.join(tmp, "ids.json")
    with open(path, "w") as f:
        json.dump([ids for ids in id_lists if ids] or [[]], f)
    texts = iter(json.loads(supra("detokenize", model, "--ids-file", path)))
    return [next(texts) if ids else "" for ids in id_lists]


def hf_reference(folder, tmp, decode):
    req = os.path.join(tmp, "hf_request.json")
    with open(req, "w") as f:
        json.dump({"strings": STRINGS, "decode": decode}, f)
    return json.loads(run(["node", os.path.join(HF_DIR, "tokenize.mjs"), folder, req], cwd=HF_DIR, timeout=600))


def llama_reference(gguf, tmp, decode):
    req = os.path.join(tmp, "llama_request.json")
    with open(req, "w") as f:
        json.dump({"strings": STRINGS, "decode": decode}, f)
    return json.loads(run(["node", os.path.join(LLAMA_DIR, "tokenize.mjs"), gguf, req], cwd=LLAMA_DIR, env=ENV,
                          timeout=600))


def short(x, n=60):
    r = repr(x)
    return r if len(r) <= n else r[:n] + "..."


def compare(label, fixture, ref_name, ours, ref):
    """One check per (fixture, reference): every string id for id, known differences excepted."""
    bad, known_seen = [], []
    for s, a, b in zip(STRINGS, ours, ref):
        reason = known(fixture, ref_name, s)
        if reason:
            known_seen.append((s, reason, a != b))
        elif a != b:
            bad.append(f"{short(s)}: ours {short(a)} {ref_name} {short(b)}")
    check(f"{fixture}: {label} == {ref_name}, {len(STRINGS) - len(known_seen)} strings", not bad,
          "\n      " + "\n      ".join(bad[:8]) if bad else "")
    for s, reason, differs in known_seen:
        check(f"{fixture}: {ref_name} still differs on {short(s)} ({reason})", differs)


def has_added_token(s, folder):
    tok = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))
    return any(t["content"] in s for t in tok.get("added_tokens", []))


def expected_decode(name, s):
    """What decode(encode(s)) gives back. SentencePiece vocabularies spell a
    space as U+2581, so a literal U+2581 comes back as a space; Metaspace with
    prepend_scheme "first" adds no U+2581 to text that already starts with one
    (or with a space), and its decoder then drops that text's own first space."""
    if name in ("spm", "spm_metaspace", "spm_flags"):
        t = s.replace("\u2581", " ")
        if name == "spm_metaspace" and t.startswith(" "):
            t = t[1:]
        return t
    return s


def compare_with_prefix(label, fixture, ref_name, ours, ref, prefix, reason):
    """ours == prefix + ref for every string (a BOS the reference leaves out, for `reason`)."""
    bad = [f"{s!r}: ours {a} {ref_name} {b}" for s, a, b in zip(STRINGS, ours, ref) if a != prefix + b]
    check(f"{fixture}: {label} == {prefix} + {ref_name} ({reason})", not bad, "; ".join(bad[:4]))


def trained_config_bos(folder):
    """The BOS id tokenizer_config.json asks for when tokenizer.json has no post-processor of its own."""
    tok = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))
    cfg = json.load(open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8"))
    if tok.get("post_processor") or not cfg.get("add_bos_token"):
        return None
    bos = cfg["bos_token"] if isinstance(cfg["bos_token"], str) else cfg["bos_token"]["content"]
    return next(t["id"] for t in tok["added_tokens"] if t["content"] == bos)


def test_fixture(name, folder, tmp, llama_ok=True, config_bos=None):
    work = os.path.join(tmp, name)
    os.makedirs(work)
    # 1. The Hugging Face folder.
    ours = supra_encode_all(folder, work, "--no-add-special")
    ours_special = supra_encode_all(folder, work, None)
    ref = hf_reference(folder, work, ours)
    for impl in ("rust", "js"):
        if "error" in ref[impl]:
            check(f"{name}: {impl} loads the tokenizer.json", False, ref[impl]["error"][:300])
            continue
        compare("ids (no BOS/EOS)", name, impl, ours, ref[impl]["ids"])
        if config_bos is None:
            compare("ids with BOS/EOS", name, impl + "+special", ours_special, ref[impl]["ids_special"])
        else:
            compare_with_prefix("ids with BOS/EOS", name, impl + "+special", ours_special, ref[impl]["ids_special"],
                                [config_bos], CONFIG_BOS_REASON)
        decoded = supra_decode_all(folder, work, ours)
        compare("decode", name, impl + "-decode", decoded, ref[impl]["decoded"])
    decoded = supra_decode_all(folder, work, ours)
    plain = [(s, d) for s, d in zip(STRINGS, decoded) if not has_added_token(s, folder)]
    wrong = [f"{s!r} -> {d!r}" for s, d in plain if expected_decode(name, s) != d]
    check(f"{name}: decode(encode(s)) == s for the {len(plain)} strings without added tokens", not wrong,
          "; ".join(wrong[:5]))
    if not llama_ok:
        return
    # 2. Our GGUF of a model with this vocabulary, against llama.cpp.
    model = os.path.join(work, "model")
    tokenizer_model.make_model_folder(folder, model)
    gguf = os.path.join(work, "model.gguf")
    supra("convert", model, gguf)
    g_ours = supra_encode_all(gguf, work, "--no-add-special")
    g_plain = supra_encode_all(gguf, work, "--no-special")
    lref = llama_reference(gguf, work, g_ours)
    compare("GGUF ids", name, "llama.cpp", g_ours, lref["ids"])
    compare("GGUF ids, special tokens as text", name, "llama.cpp-plain", g_plain, lref["ids_plain"])
    g_special = supra_encode_all(gguf, work, None)
    bos = [lref["bos"]] if lref["add_bos"] else []
    eos = [lref["eos"]] if lref["add_eos"] else []
    bad = [s for s, a, b in zip(STRINGS, g_special, g_ours) if a != bos + b + eos]
    check(f"{name}: GGUF ids with BOS/EOS == {bos} + ids + {eos}, as llama.cpp's add_bos / add_eos say", not bad,
          bad[:4])
    i = STRINGS.index("Hello, world!")
    hf_prefix = [config_bos] if config_bos is not None else \
        ref["rust"]["ids_special"][i][:len(ref["rust"]["ids_special"][i]) - len(ref["rust"]["ids"][i])]
    check(f"{name}: llama.cpp adds the BOS/EOS the Hugging Face folder adds", bos + eos == hf_prefix,
          f"llama.cpp {bos} + {eos}, Hugging Face {hf_prefix}")
    g_decoded = supra_decode_all(gguf, work, g_ours)
    compare("GGUF decode", name, "llama.cpp-decode", g_decoded, lref["decoded"])
    # 3. GGUF -> Hugging Face folder: the written tokenizer.json gives the original's ids.
    back = os.path.join(work, "back")
    supra("convert", gguf, back)
    check(f"{name}: GGUF -> HF writes tokenizer.json and tokenizer_config.json",
          all(os.path.exists(os.path.join(back, n)) for n in ("tokenizer.json", "tokenizer_config.json")))
    back_ref = hf_reference(back, work, [])
    if "error" in back_ref["rust"]:
        check(f"{name}: the Rust library loads the written tokenizer.json", False, back_ref["rust"]["error"][:300])
        return
    compare("HF -> GGUF -> HF ids (Rust library)", name, "rust-roundtrip", ref["rust"]["ids"], back_ref["rust"]["ids"])
    if config_bos is None:
        compare("HF -> GGUF -> HF ids with BOS/EOS", name, "rust-roundtrip+special", ref["rust"]["ids_special"],
                back_ref["rust"]["ids_special"])
    else:
        compare_with_prefix("HF -> GGUF -> HF ids with BOS/EOS", name, "the original's", back_ref["rust"]["ids_special"],
                            ref["rust"]["ids_special"], [config_bos],
                            "the written tokenizer.json has a TemplateProcessing for the BOS")
    compare("written tokenizer.json", name, "rust-on-written", supra_encode_all(back, work, "--no-add-special"),
            back_ref["rust"]["ids"])


def main():
    for d, what in ((os.path.join(HF_DIR, "node_modules", "tokenizers"), "tokenizers"),
                    (os.path.join(HF_DIR, "node_modules", "@huggingface", "tokenizers"), "@huggingface/tokenizers"),
                    (os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp"), "node-llama-cpp")):
        if not os.path.isdir(d):
            raise SystemExit(f"{what} is not installed: run tools/install_deps.sh")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("byte_level", "llama3", "spm"):
            test_fixture(name, os.path.join(FIXTURES, name), tmp)
        # Metaspace with prepend_scheme "first" has no llama.cpp equivalent (llama.cpp
        # puts the space after every special token): Hugging Face references only.
        test_fixture("spm_metaspace", os.path.join(FIXTURES, "spm_metaspace"), tmp, llama_ok=False)
        # lstrip / rstrip / single_word / normalized added tokens: GGUF has no place for the flags.
        test_fixture("spm_flags", os.path.join(FIXTURES, "spm_flags"), tmp, llama_ok=False)
        demo = os.path.join(tmp, "demo_model")
        supra("demo-model", demo)
        test_fixture("demo", demo, tmp, config_bos=258)
        # The trained demo model's own byte-level BPE (tools/demo_model, tools/demo_bpe.py), where the tree has it.
        trained = os.path.join(ROOT, "tools", "demo_model")
        if os.path.exists(os.path.join(trained, "tokenizer.json")):
            test_fixture("trained_demo", trained, tmp, config_bos=trained_config_bos(trained))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
