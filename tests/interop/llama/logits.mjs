// Prints llama.cpp's logits for every position of a token sequence as JSON.
// usage: node logits.mjs MODEL.gguf '[1,2,3]' [TEXT]  > logits.json
// With TEXT, also prints llama.cpp's tokenization of it (no special tokens added).
// Settings for tight comparisons (see shared/reference/llamacpp-interop.md):
// one thread, f32 KV cache, no flash attention, context larger than the input.
import {getLlama} from "node-llama-cpp";

const [modelPath, tokensJson, text] = process.argv.slice(2);
const tokens = JSON.parse(tokensJson);
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
  contextSize: tokens.length + 16,
  batchSize: tokens.length + 16,
  threads: 1,
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const sequence = context.getSequence();
const results = await sequence.controlledEvaluate(tokens.map((t) => [t, {generateNext: {logits: true}}]));
const rows = results.map((r) => {
  const row = new Array(r.next.logits.size);
  for (const [token, value] of r.next.logits) row[token] = value;
  return row;
});
const textTokens = text === undefined ? null : Array.from(model.tokenize(text, false));
process.stdout.write(JSON.stringify({n_vocab: rows[0].length, logits: rows, text_tokens: textTokens}));
await context.dispose();
await model.dispose();
await llama.dispose();
