// Tokenizes strings with Hugging Face's tokenizers, both implementations:
// "js" = tokenizers.js (@huggingface/tokenizers, pure JS), "rust" = the Rust
// library behind transformers (the `tokenizers` package's prebuilt binding).
// usage: node tokenize.mjs TOKENIZER_DIR REQUEST.json > out.json
// REQUEST: {"strings": [...], "decode": [[ids], ...]}
// out: {"js": {"ids": [[...]], "ids_special": [[...]], "decoded": [...]}, "rust": {...}}
// ids: add_special_tokens false; ids_special: true. decoded: skip special tokens, no clean-up.
import fs from "node:fs";
import path from "node:path";
import {Tokenizer as JsTokenizer} from "@huggingface/tokenizers";
import rust from "tokenizers";

const [dir, requestPath] = process.argv.slice(2);
const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));
const tokenizerJson = fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8");
const configPath = path.join(dir, "tokenizer_config.json");
const config = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};

function runJs() {
  const tok = new JsTokenizer(JSON.parse(tokenizerJson), config);
  const out = {ids: [], ids_special: [], decoded: []};
  for (const s of request.strings) {
    out.ids.push(tok.encode(s, {add_special_tokens: false}).ids);
    out.ids_special.push(tok.encode(s, {add_special_tokens: true}).ids);
  }
  for (const ids of request.decode ?? [])
    out.decoded.push(ids.length ? tok.decode(ids, {skip_special_tokens: true, clean_up_tokenization_spaces: false}) : "");
  return out;
}

async function runRust() {
  const tok = rust.Tokenizer.fromString(tokenizerJson);
  const out = {ids: [], ids_special: [], decoded: []};
  for (const s of request.strings) {
    out.ids.push((await tok.encode(s, null, {addSpecialTokens: false})).getIds());
    out.ids_special.push((await tok.encode(s, null, {addSpecialTokens: true})).getIds());
  }
  for (const ids of request.decode ?? []) out.decoded.push(await tok.decode(ids, true));
  return out;
}

function guarded(f) {
  try {
    return f();
  } catch (e) {
    return {error: String(e && e.stack ? e.stack : e)};
  }
}

const result = {js: guarded(runJs), rust: await runRust().catch((e) => ({error: String(e)}))};
process.stdout.write(JSON.stringify(result));
