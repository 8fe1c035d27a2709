// llama.cpp's (node-llama-cpp) prompt and greedy-decode speed on a GGUF:
// evaluates the prompt once (logits of its last token only, as
// `supra logits --positions last`), then decodes DECODE tokens greedily.
// Prints {"prompt_tokens_per_s", "decode_tokens_per_s", "new"} as JSON.
// usage: node llama_speed.mjs MODEL.gguf TOKENS.json THREADS DECODE
import {getLlama} from "../tests/interop/llama/node_modules/node-llama-cpp/dist/index.js";
import {readFileSync} from "node:fs";

const [modelPath, tokensPath, threadsArg, decodeArg] = process.argv.slice(2);
const tokens = JSON.parse(readFileSync(tokensPath, "utf8"));
const threads = Number(threadsArg), decode = Number(decodeArg);
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
  contextSize: tokens.length + decode + 16,  // larger than the input (llamacpp-interop.md)
  batchSize: tokens.length,
  threads,
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

let sequence = context.getSequence();
let t0 = process.hrtime.bigint();
await sequence.evaluateWithoutGeneratingNewTokens(tokens);
const promptSeconds = seconds(t0);
await sequence.clearHistory();

// The first generated token costs the prompt again; time the ones after it.
const generated = [];
let decodeStart = null;
for await (const token of sequence.evaluate(tokens, {temperature: 0})) {
  generated.push(token);
  if (generated.length === 1) decodeStart = process.hrtime.bigint();
  if (generated.length === decode + 1) break;
}
const decodeSeconds = seconds(decodeStart);
process.stdout.write(JSON.stringify({
  prompt_tokens_per_s: tokens.length / promptSeconds,
  decode_tokens_per_s: decode / decodeSeconds,
  new: generated,
}) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
