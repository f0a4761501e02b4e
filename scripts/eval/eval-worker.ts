/** One evaluation worker thread: loads the model once, then generates greedily for each index it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { dirModelSource } from '../lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../lib/node-web-tokenizers.ts';
import type { EvalItem, EvalOutcome } from './score.ts';

const { modelDir, items, maxNewTokens } = workerData as { modelDir: string; items: EvalItem[]; maxNewTokens: number };
const model = await loadModel(dirModelSource(modelDir), { tokenizerLib: nodeWebTokenizers() });
const backend = createReferenceBackend(model);

parentPort!.on('message', async (index: number | null) => {
  if (index === null) process.exit(0);
  const item = items[index];
  const r = await generate(backend, { prompt: item.prompt, maxNewTokens, sampling: GREEDY });
  const outcome: EvalOutcome = {
    index,
    correct: r.answer === item.answer,
    answer: r.answer,
    thinkTokens: r.thinkTokens,
    closedThink: r.closedThink,
    generatedTokens: r.generatedIds.length,
  };
  parentPort!.postMessage(outcome);
});
parentPort!.postMessage('ready');
