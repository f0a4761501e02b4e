/**
 * npm run eval -- [--policy full] [--limit N] [--model DIR] [--workers N] [--max-new-tokens N] [--out FILE]
 *
 * Greedy generation over the model folder's eval.jsonl, exact match of the text after </think>
 * with `answer`. Runs the CPU reference engine (the oracle the GPU engine is tested against) in
 * worker threads, one per core. Prints accuracy, mean think length, the share that closed
 * </think>, the engine and the wall time, and writes the per-prompt results as JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { parseEvalJsonl, type EvalOutcome } from './eval/score.ts';

const { values } = parseArgs({
  options: {
    policy: { type: 'string', default: 'full' },
    limit: { type: 'string' },
    model: { type: 'string', default: 'public/models/tiny-reasoner-qwen3' },
    workers: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '1024' },
    out: { type: 'string' },
  },
});

const SUPPORTED_POLICIES = ['full'];
if (!SUPPORTED_POLICIES.includes(values.policy!)) {
  console.error(`Unknown policy "${values.policy}". Available: ${SUPPORTED_POLICIES.join(', ')}.`);
  process.exit(2);
}
const modelDir = values.model!;
let items = parseEvalJsonl(readFileSync(`${modelDir}/eval.jsonl`, 'utf8'));
if (values.limit) items = items.slice(0, Number(values.limit));
const workerCount = Math.max(1, Math.min(Number(values.workers ?? availableParallelism()), items.length));
const maxNewTokens = Number(values['max-new-tokens']);

function progressBar(done: number, total: number, correct: number, started: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = (performance.now() - started) / 1000;
  const eta = done > 0 ? (seconds / done) * (total - done) : 0;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} acc ${((100 * correct) / Math.max(1, done)).toFixed(1)}% ${seconds.toFixed(0)}s eta ${eta.toFixed(0)}s `;
}

const started = performance.now();
const outcomes: EvalOutcome[] = [];
let next = 0;
let correct = 0;
await Promise.all(
  Array.from({ length: workerCount }, () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./eval/eval-worker-entry.mjs', import.meta.url), {
        workerData: { modelDir, items, maxNewTokens },
      });
      const feed = () => worker.postMessage(next < items.length ? next++ : null);
      worker.on('message', (m: EvalOutcome | 'ready') => {
        if (m !== 'ready') {
          outcomes.push(m);
          if (m.correct) correct++;
          process.stderr.write(progressBar(outcomes.length, items.length, correct, started));
        }
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', () => resolve());
    }),
  ),
);
process.stderr.write('\n');
const wallSeconds = (performance.now() - started) / 1000;
outcomes.sort((a, b) => a.index - b.index);
const n = outcomes.length;
const summary = {
  model: modelDir,
  policy: values.policy,
  engine: 'CPU reference (f64, Node worker threads)',
  prompts: n,
  accuracy: correct / n,
  meanThinkTokens: outcomes.reduce((s, o) => s + o.thinkTokens, 0) / n,
  closedThinkShare: outcomes.filter((o) => o.closedThink).length / n,
  wallSeconds,
  workers: workerCount,
};
console.log(`model        ${summary.model}`);
console.log(`policy       ${summary.policy}`);
console.log(`engine       ${summary.engine}, ${workerCount} workers`);
console.log(`prompts      ${n}`);
console.log(`accuracy     ${(100 * summary.accuracy).toFixed(1)}%`);
console.log(`think length ${summary.meanThinkTokens.toFixed(1)} tokens (closed </think>: ${(100 * summary.closedThinkShare).toFixed(1)}%)`);
console.log(`wall time    ${wallSeconds.toFixed(1)} s`);
const out = values.out ?? `eval-out/${values.policy}.json`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ summary, outcomes }, null, 1));
console.log(`results      ${out}`);
