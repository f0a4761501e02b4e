/**
 * npm run eval -- [--policy P | --policies a,b] [--budgets 64,96] [--mode all|think] [--grid]
 *                 [--limit N] [--model DIR] [--workers N] [--param k=v,...[;k=v,...]] [--out DIR] [--no-memo]
 *                 [--compare results.json] [--engine cpu|gpu [--vulkan-icd swiftshader|PATH]]
 *
 * Greedy generation over the model folder's eval.jsonl; a prompt is correct when the text after
 * </think> equals `answer`. Runs the CPU reference engine (the oracle the GPU engine is tested
 * against) in worker threads, one per core; --engine gpu runs the GPU engine instead, from Node on
 * Dawn (the `webgpu` package; scripts/eval/gpu-eval.ts), one prompt at a time on one device. --grid runs every listed policy at the `all` budgets
 * {96, 128, 192, 256} and the `think` budgets {32, 64, 96, 128}, plus the full cache. A worker
 * takes one prompt at a time and computes the steps every config shares (until it first evicts)
 * once; --no-memo computes every config from scratch (same results, slower). Prints a
 * table, and writes results.json, results.md and results.svg to --out (default eval-out/).
 * --compare checks every outcome against an earlier results.json (same config label and prompt:
 * correct, answer, think and generated tokens) and exits 1 on any difference: a refactor that
 * must not change a decision shows it did not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { POLICY_IDS } from '../src/policies/registry.ts';
import { markdownReport, svgChart } from './eval/report.ts';
import { parseEvalJsonl, summarise, type EvalConfig, type EvalJob, type EvalOutcome } from './eval/score.ts';

const { values } = parseArgs({
  options: {
    policy: { type: 'string' },
    policies: { type: 'string' },
    budgets: { type: 'string' },
    mode: { type: 'string', default: 'all' },
    grid: { type: 'boolean', default: false },
    limit: { type: 'string' },
    model: { type: 'string', default: 'public/models/tiny-reasoner-qwen3' },
    workers: { type: 'string' },
    param: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '1024' },
    out: { type: 'string', default: 'eval-out' },
    'no-memo': { type: 'boolean', default: false },
    compare: { type: 'string' },
    engine: { type: 'string', default: 'cpu' },
    'vulkan-icd': { type: 'string' },
  },
});

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
const policies = [...list(values.policy), ...list(values.policies)];
if (policies.length === 0) policies.push('full');
for (const p of policies) {
  if (!POLICY_IDS.includes(p)) {
    console.error(`Unknown policy "${p}". Available: ${POLICY_IDS.join(', ')}.`);
    process.exit(2);
  }
}
// --param a=1,b=2 sets policy parameters; several sets separated by ';' run each as its own series (sweeps).
const paramSets = (values.param ?? '').split(';').map((set) => {
  const params: Record<string, number> = Object.fromEntries(list(set).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  return { params: Object.keys(params).length ? params : undefined, tag: list(set).join(',') };
});
if (values.engine !== 'cpu' && values.engine !== 'gpu') {
  console.error('--engine is cpu (the f64 reference, default) or gpu (Node on Dawn)');
  process.exit(2);
}
if (values.mode !== 'all' && values.mode !== 'think') {
  console.error('--mode is all or think');
  process.exit(2);
}

const configs: EvalConfig[] = [];
const add = (policy: string, mode: 'all' | 'think', budget: number) => {
  for (const { params, tag } of paramSets) {
    const series = paramSets.length > 1 && tag ? `${policy}[${tag}]` : policy;
    configs.push({ policy, series, mode, budget, params, label: `${series} ${mode} ${budget}` });
  }
};
const budgeted = policies.filter((p) => p !== 'full');
if (values.grid) {
  for (const p of budgeted) for (const b of [96, 128, 192, 256]) add(p, 'all', b);
  for (const p of budgeted) for (const b of [32, 64, 96, 128]) add(p, 'think', b);
} else {
  for (const p of budgeted) for (const b of list(values.budgets).map(Number)) add(p, values.mode, b);
  if (budgeted.length && configs.length === 0) {
    console.error('Give --budgets (or --grid) for policies other than full.');
    process.exit(2);
  }
}
if (values.grid || policies.includes('full')) configs.push({ policy: 'full', mode: 'none', budget: null, label: 'full' });

const modelDir = values.model!;
let items = parseEvalJsonl(readFileSync(`${modelDir}/eval.jsonl`, 'utf8'));
if (values.limit) items = items.slice(0, Number(values.limit));
// One job per prompt: a worker runs every config on it, replaying their shared beginning
// (src/model/prefix-memo.ts) unless --no-memo.
const jobs: EvalJob[] = items.map((_, item) => ({ item }));
const total = jobs.length * configs.length;
const memo = !values['no-memo'];
const workerCount = Math.max(1, Math.min(Number(values.workers ?? availableParallelism()), jobs.length));
const maxNewTokens = Number(values['max-new-tokens']);

function progressBar(done: number, total: number, started: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = (performance.now() - started) / 1000;
  const eta = done > 0 ? (seconds / done) * (total - done) : 0;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} generations ${seconds.toFixed(0)}s eta ${eta.toFixed(0)}s `;
}

const started = performance.now();
const outcomes: EvalOutcome[] = [];
const collect = (m: EvalOutcome[]) => {
  outcomes.push(...m);
  if (process.stderr.isTTY || outcomes.length === total || outcomes.length % (10 * configs.length) === 0) process.stderr.write(progressBar(outcomes.length, total, started));
};
let engine = 'CPU reference (f64, Node worker threads)';
if (values.engine === 'gpu') {
  // The kernels import their .wgsl with Vite's ?raw: register the same for Node before loading them.
  await import('./lib/wgsl-raw-register.ts');
  const { gpuEval } = await import('./eval/gpu-eval.ts');
  engine = await gpuEval(modelDir, items, configs, maxNewTokens, collect, values['vulkan-icd']);
} else {
  let next = 0;
  await Promise.all(
    Array.from({ length: workerCount }, () =>
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL('./eval/eval-worker-entry.mjs', import.meta.url), {
          workerData: { modelDir, items, configs, maxNewTokens, memo },
        });
        const feed = () => worker.postMessage(next < jobs.length ? jobs[next++] : null);
        worker.on('message', (m: EvalOutcome[] | 'ready') => {
          if (m !== 'ready') collect(m);
          feed();
        });
        worker.on('error', reject);
        worker.on('exit', () => resolve());
      }),
    ),
  );
}
process.stderr.write('\n');
const wallSeconds = (performance.now() - started) / 1000;
outcomes.sort((a, b) => a.config - b.config || a.item - b.item);
const summaries = summarise(configs, outcomes);

const workers = values.engine === 'gpu' ? 1 : workerCount;
console.log(`model   ${modelDir}; ${items.length} prompts; engine ${engine}, ${workers} workers; wall time ${wallSeconds.toFixed(1)} s`);
console.log('config                         accuracy   think  closed');
for (const s of summaries) {
  console.log(`${s.label.padEnd(30)} ${(100 * s.accuracy).toFixed(1).padStart(7)}% ${s.meanThinkTokens.toFixed(1).padStart(7)} ${(100 * s.closedThinkShare).toFixed(1).padStart(6)}%`);
}
mkdirSync(values.out!, { recursive: true });
const header = `Greedy accuracy on the first ${items.length} prompts of ${modelDir}/eval.jsonl; ${engine}; ${wallSeconds.toFixed(0)} s on ${workers} workers.`;
writeFileSync(join(values.out!, 'results.json'), JSON.stringify({ model: modelDir, prompts: items.length, engine, wallSeconds, summaries, outcomes }, null, 1));
writeFileSync(join(values.out!, 'results.md'), markdownReport(summaries, header));
writeFileSync(join(values.out!, 'results.svg'), svgChart(summaries, header));
console.log(`results ${values.out}/results.{json,md,svg}`);

if (values.compare) {
  const before = JSON.parse(readFileSync(values.compare, 'utf8')) as { summaries: { label: string }[]; outcomes: EvalOutcome[] };
  const key = (label: string, item: number) => `${label}#${item}`;
  const old = new Map(before.outcomes.map((o) => [key(before.summaries[o.config].label, o.item), o]));
  let same = 0;
  const differ: string[] = [];
  const missing: string[] = [];
  for (const o of outcomes) {
    const label = configs[o.config].label;
    const b = old.get(key(label, o.item));
    if (!b) {
      missing.push(key(label, o.item));
      continue;
    }
    const fields = ['correct', 'answer', 'thinkTokens', 'closedThink', 'generatedTokens'] as const;
    const diff = fields.filter((f) => o[f] !== b[f]);
    if (diff.length === 0) same++;
    else differ.push(`${label} prompt ${o.item}: ${diff.map((f) => `${f} ${JSON.stringify(b[f])} -> ${JSON.stringify(o[f])}`).join(', ')}`);
  }
  console.log(`compare with ${values.compare}: ${same} outcomes identical, ${differ.length} differ, ${missing.length} not in it`);
  for (const d of differ.slice(0, 20)) console.log(`  differs: ${d}`);
  if (missing.length) console.log(`  not compared: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  if (differ.length > 0 || missing.length > 0) process.exit(1);
}
