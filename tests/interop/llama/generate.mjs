// llama.cpp's greedy continuation of text prompts (its own tokenizer, BOS as
// the model says, its own greedy sampler: temperature 0).
// usage: node generate.mjs MODEL.gguf REQUEST.json > out.json
// REQUEST: {"prompts": ["text", ...], "max_new": N}
// out: {"results": [{"prompt_ids": [...], "new": [...]}, ...]}  (an EOS that ends generation included)
import fs from "node:fs";
import {getLlama} from "node-llama-cpp";

const [modelPath, requestPath] = process.argv.slice(2);
const {prompts, max_new: maxNew} = JSON.parse(fs.readFileSync(requestPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
  contextSize: 256,
  batchSize: 256,
  threads: 1,
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const sequence = context.getSequence();
const results = [];
for (const text of prompts) {
  await sequence.clearHistory();
  const ids = Array.from(model.tokenize(text, false));
  if (model.tokens.shouldPrependBosToken) ids.unshift(model.tokens.bos);
  const generated = [];
  for await (const token of sequence.evaluate(ids, {temperature: 0, yieldEogToken: true})) {
    generated.push(token);
    if (generated.length >= maxNew || token === model.tokens.eos) break;
  }
  results.push({prompt_ids: ids, new: generated});
}
process.stdout.write(JSON.stringify({results}));
await context.dispose();
await model.dispose();
await llama.dispose();
