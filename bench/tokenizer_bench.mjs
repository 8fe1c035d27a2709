// Encodes a text file with the reference tokenizers and prints the best time
// of N runs for each, as JSON: Hugging Face tokenizers (Rust, via its Node
// binding), tokenizers.js, and llama.cpp (node-llama-cpp) on a GGUF of the
// same vocabulary. Load time is not counted; no BOS/EOS are added.
//   node bench/tokenizer_bench.mjs TOKENIZER_DIR MODEL.gguf TEXT RUNS OUT_DIR
import fs from "node:fs";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const hfModules = path.join(root, "tests/interop/hf_tokenizers/node_modules");
const llamaModules = path.join(root, "tests/interop/llama/node_modules");
const load = (dir, name, file) => import(pathToFileURL(path.join(dir, name, file)).href);

const [dir, gguf, textPath, runsArg, outDir] = process.argv.slice(2);
const text = fs.readFileSync(textPath, "utf8");
const runs = Number(runsArg);
const tokenizerJson = fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8");
const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));

async function best(name, encode) {
  let seconds = Infinity, ids = [];
  for (let r = 0; r < runs; ++r) {
    const t0 = process.hrtime.bigint();
    ids = await encode();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(Array.from(ids)));
  return {bytes: Buffer.byteLength(text, "utf8"), tokens: ids.length, seconds};
}

const result = {};
const rust = (await load(hfModules, "tokenizers", "index.js")).default;
const rustTok = rust.Tokenizer.fromString(tokenizerJson);
result.rust = await best("rust", async () => (await rustTok.encode(text, null, {addSpecialTokens: false})).getIds());
const js = await load(hfModules, "@huggingface/tokenizers", "dist/tokenizers.mjs");
const jsTok = new js.Tokenizer(JSON.parse(tokenizerJson), config);
result.js = await best("js", async () => jsTok.encode(text, {add_special_tokens: false}).ids);
const {getLlama} = await load(llamaModules, "node-llama-cpp", "dist/index.js");
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath: gguf, vocabOnly: true});
result.llama = await best("llama", async () => model.tokenize(text, true));
await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(result) + "\n");
