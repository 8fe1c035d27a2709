// Tokenizes strings with llama.cpp's tokenizer (node-llama-cpp, vocabulary only).
// usage: node tokenize.mjs MODEL.gguf REQUEST.json > out.json
// REQUEST: {"strings": [...], "decode": [[ids], ...]}
// out: {"ids": [[...]], "ids_plain": [[...]], "decoded": [...], "bos": id|null, "eos": id|null,
//       "add_bos": bool, "add_eos": bool}
// ids: special tokens in the text parsed (llama_tokenize parse_special = true);
// ids_plain: not parsed. Neither adds BOS/EOS (node-llama-cpp passes add_special = false).
// decoded: llama_detokenize without special tokens.
import fs from "node:fs";
import {getLlama} from "node-llama-cpp";

const [modelPath, requestPath] = process.argv.slice(2);
const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath, vocabOnly: true});
const out = {ids: [], ids_plain: [], decoded: []};
for (const s of request.strings) {
  out.ids.push(Array.from(model.tokenize(s, true)));
  out.ids_plain.push(Array.from(model.tokenize(s, false)));
}
for (const ids of request.decode ?? []) out.decoded.push(model.detokenize(ids, false));
// What llama_tokenize(add_special = true) puts around the text.
out.bos = model.tokens.bos;
out.eos = model.tokens.eos;
out.add_bos = model.tokens.shouldPrependBosToken;
out.add_eos = model.tokens.shouldAppendEosToken;
process.stdout.write(JSON.stringify(out));
await model.dispose();
await llama.dispose();
