/** One evaluation worker thread: loads the model once, then runs (or, with replay, teacher-forces) each prompt it is sent under every config. */
import { parentPort, workerData } from 'node:worker_threads';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { PrefixMemo } from '../../src/model/prefix-memo.ts';
import { createOracle, Hindsight, recordingPolicy } from '../../src/policies/oracle.ts';
import { dirModelSource } from '../lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../lib/node-web-tokenizers.ts';
import { replayPrompt } from './replay.ts';
import { runPrompt } from './run-prompt.ts';
import type { EvalConfig, EvalItem, EvalJob } from './score.ts';

const { modelDir, items, configs, maxNewTokens, memo, replay } = workerData as {
  modelDir: string;
  items: EvalItem[];
  configs: EvalConfig[];
  maxNewTokens: number;
  memo: boolean;
  /** Teacher-force the full-cache run through every config instead of generating (replay.ts). */
  replay: boolean;
};
const model = await loadModel(dirModelSource(modelDir), { tokenizerLib: nodeWebTokenizers() });
const backend = createReferenceBackend(model);

parentPort!.on('message', async (job: EvalJob | null) => {
  if (job === null) process.exit(0);
  const item = items[job.item];
  // Every config of this prompt shares one memo: their common beginning is computed once.
  backend.useMemo(memo ? new PrefixMemo() : null);
  if (replay) {
    parentPort!.postMessage(await replayPrompt(backend, item, job.item, configs, maxNewTokens));
    backend.useMemo(null);
    return;
  }
  // The oracle evicts with hindsight: first a full-cache run of this prompt records its attention.
  if (configs.some((c) => c.policy === 'oracle')) {
    const hindsight = new Hindsight(model.config.numLayers, model.config.numKvHeads);
    backend.providePolicies(() => recordingPolicy(hindsight));
    await generate(backend, { prompt: item.prompt, maxNewTokens, sampling: GREEDY, cache: { policy: 'oracle-record' } });
    hindsight.finish();
    backend.providePolicies((c) => (c.policy === 'oracle' ? createOracle({ variant: c.params?.variant ?? 0 }, hindsight) : undefined));
  }
  const outcomes = await runPrompt(backend, item, job.item, configs, maxNewTokens);
  backend.useMemo(null);
  backend.providePolicies(null);
  parentPort!.postMessage(outcomes);
});
parentPort!.postMessage('ready');
