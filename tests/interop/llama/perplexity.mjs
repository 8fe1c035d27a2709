// llama.cpp's negative log-likelihood of given windows of token ids, the way
// llama-perplexity scores them, from its own logits (node-llama-cpp has no
// perplexity call). Each window runs from an empty context.
// usage: node perplexity.mjs MODEL.gguf REQUEST.json > out.json
// REQUEST: {"windows": [{"input": [ids], "first_row": r, "targets": [ids]}, ...]}
//   rows first_row, first_row + 1, ... of each window are scored against targets.
// out: {"window_nll": [sum of -ln p(target) per window], "scored": count}
// Settings as logits.mjs: one thread, f32 KV cache, no flash attention, context larger than a window.
import fs from "node:fs";
import {getLlama} from "node-llama-cpp";

const [modelPath, requestPath] = process.argv.slice(2);
const {windows} = JSON.parse(fs.readFileSync(requestPath, "utf8"));
const longest = Math.max(...windows.map((w) => w.input.length));
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
  contextSize: longest + 16,
  batchSize: longest + 16,
  threads: 1,
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const sequence = context.getSequence();
const windowNll = [];
let scored = 0;
for (const w of windows) {
  await sequence.clearHistory();
  const items = w.input.map((t, row) => (row >= w.first_row && row - w.first_row < w.targets.length
    ? [t, {generateNext: {logits: true}}] : t));
  const results = await sequence.controlledEvaluate(items);
  let nll = 0;
  for (let k = 0; k < w.targets.length; ++k) {
    const logits = results[w.first_row + k].next.logits;  // Map token -> logit
    let top = -Infinity;
    for (const v of logits.values()) top = Math.max(top, v);
    let sum = 0;
    for (const v of logits.values()) sum += Math.exp(v - top);
    nll += Math.log(sum) - (logits.get(w.targets[k]) - top);
    ++scored;
  }
  windowNll.push(nll);
}
process.stdout.write(JSON.stringify({window_nll: windowNll, scored}));
await context.dispose();
await model.dispose();
await llama.dispose();
