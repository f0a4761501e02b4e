/**
 * npm run eval -- [--policy P | --policies a,b] [--budgets 64,96] [--mode all|think] [--grid]
 *                 [--limit N [--skip M]] [--model DIR] [--workers N] [--param k=v,...[;k=v,...]] [--out DIR] [--no-memo]
 *                 [--compare results.json] [--engine cpu|gpu [--vulkan-icd swiftshader|PATH]]
 *                 [--replay [--accuracy results.json]]
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
 * --replay teacher-forces each prompt's recorded full-cache generation through every config
 * instead of generating (scripts/eval/replay.ts): per config the attention mass lost, the KL of
 * the next-token distribution from the full cache's and top-1 agreement, beside the oracle and
 * its limited-foresight variants (the next 16, 64, 256 queries; the answer's queries only). With
 * --grid it runs the think grid. --accuracy ranks the policies against free-running
 * results.json files (comma-separated; Spearman). Writes replay.json and replay.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { POLICY_IDS } from '../src/policies/registry.ts';
import { markdownReport, svgChart } from './eval/report.ts';
import type { ReplayOutcome } from './eval/replay.ts';
import { rankAgreement, replayMarkdown, summariseReplay } from './eval/replay-report.ts';
import { parseEvalJsonl, summarise, type EvalConfig, type EvalJob, type EvalOutcome, type EvalSummary } from './eval/score.ts';

const { values } = parseArgs({
  options: {
    policy: { type: 'string' },
    policies: { type: 'string' },
    budgets: { type: 'string' },
    mode: { type: 'string', default: 'all' },
    grid: { type: 'boolean', default: false },
    limit: { type: 'string' },
    skip: { type: 'string' },
    model: { type: 'string', default: 'public/models/tiny-reasoner-qwen3' },
    workers: { type: 'string' },
    param: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '1024' },
    out: { type: 'string', default: 'eval-out' },
    'no-memo': { type: 'boolean', default: false },
    compare: { type: 'string' },
    engine: { type: 'string', default: 'cpu' },
    'vulkan-icd': { type: 'string' },
    replay: { type: 'boolean', default: false },
    accuracy: { type: 'string' },
  },
});
const replay = values.replay;
if (replay && values.engine !== 'cpu') {
  console.error('--replay runs on the CPU reference (it reads the cache between steps)');
  process.exit(2);
}

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
const policies = [...list(values.policy), ...list(values.policies)];
if (policies.length === 0) policies.push('full');
for (const p of policies) {
  if (!POLICY_IDS.includes(p)) {
    console.error(`Unknown policy "${p}". Available: ${POLICY_IDS.join(', ')}.`);
    process.exit(2);
  }
}
// --param a=1,b=2 sets policy parameters; several sets separated by ';' run each as its own series
// (sweeps). A set written `policy:a=1,...` applies to that policy only (candidates of a screen).
const paramSets = (values.param ?? '').split(';').map((raw) => {
  const colon = raw.indexOf(':');
  const only = colon >= 0 ? raw.slice(0, colon).trim() : undefined;
  const set = colon >= 0 ? raw.slice(colon + 1) : raw;
  if (only !== undefined && !policies.includes(only)) {
    console.error(`--param names "${only}", which is not among the policies run.`);
    process.exit(2);
  }
  const params: Record<string, number> = Object.fromEntries(list(set).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  return { params: Object.keys(params).length ? params : undefined, tag: list(set).join(','), only };
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
  for (const { params, tag, only } of paramSets) {
    if (only !== undefined && only !== policy) continue;
    const series = paramSets.length > 1 && tag ? `${policy}[${tag}]` : policy;
    configs.push({ policy, series, mode, budget, params, label: `${series} ${mode} ${budget}` });
  }
};
const budgeted = policies.filter((p) => p !== 'full');
if (values.grid) {
  if (!replay) for (const p of budgeted) for (const b of [96, 128, 192, 256]) add(p, 'all', b);
  for (const p of budgeted) for (const b of [32, 64, 96, 128]) add(p, 'think', b);
} else {
  for (const p of budgeted) for (const b of list(values.budgets).map(Number)) add(p, values.mode, b);
  if (budgeted.length && configs.length === 0) {
    console.error('Give --budgets (or --grid) for policies other than full.');
    process.exit(2);
  }
}
if (values.grid || policies.includes('full')) configs.push({ policy: 'full', mode: 'none', budget: null, label: 'full' });
if (replay) {
  // The oracle and how much foresight it needs, at every budget the replay runs.
  const budgets = [...new Set(configs.filter((c) => c.budget !== null).map((c) => `${c.mode} ${c.budget}`))];
  const variants: [string, Record<string, number>][] = [['oracle', {}], ['oracle[horizon=16]', { horizon: 16 }], ['oracle[horizon=64]', { horizon: 64 }], ['oracle[horizon=256]', { horizon: 256 }], ['oracle[answer]', { answer: 1 }]];
  for (const mb of budgets) {
    const [mode, budget] = mb.split(' ');
    for (const [series, params] of variants) {
      const label = `${series} ${mode} ${budget}`;
      if (!configs.some((c) => c.label === label)) configs.push({ policy: 'oracle', series, mode: mode as 'all' | 'think', budget: Number(budget), params, label });
    }
  }
}

const modelDir = values.model!;
let items = parseEvalJsonl(readFileSync(`${modelDir}/eval.jsonl`, 'utf8'));
if (values.limit) items = items.slice(0, Number(values.limit));
// One job per prompt: a worker runs every config on it, replaying their shared beginning
// (src/model/prefix-memo.ts) unless --no-memo.
// --skip M runs prompts M+1..N only (a later stage of a screen), under their own indices.
const skip = Number(values.skip ?? 0);
if (skip > 0 && (values.engine !== 'cpu' || replay)) {
  console.error('--skip is for the CPU reference\'s free-running evaluation');
  process.exit(2);
}
const jobs: EvalJob[] = items.map((_, item) => ({ item })).slice(skip);
const promptRange = skip > 0 ? `prompts ${skip + 1}-${items.length}` : `the first ${items.length} prompts`;
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
const replayed: ReplayOutcome[] = [];
const collect = (m: EvalOutcome[] | ReplayOutcome[]) => {
  if (replay) replayed.push(...(m as ReplayOutcome[]));
  else outcomes.push(...(m as EvalOutcome[]));
  const done = replay ? replayed.length : outcomes.length;
  if (process.stderr.isTTY || done === total || done % (10 * configs.length) === 0) process.stderr.write(progressBar(done, total, started));
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
          workerData: { modelDir, items, configs, maxNewTokens, memo, replay },
        });
        const feed = () => worker.postMessage(next < jobs.length ? jobs[next++] : null);
        worker.on('message', (m: EvalOutcome[] | ReplayOutcome[] | 'ready') => {
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
if (replay) {
  const summaries = summariseReplay(configs, replayed);
  // Free-running accuracy to rank against: one or more results.json (comma-separated), the later winning a repeated label.
  const accuracy = values.accuracy ? list(values.accuracy).flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { summaries: EvalSummary[] }).summaries) : undefined;
  const agreement = accuracy ? rankAgreement(summaries, accuracy) : undefined;
  const header = `Replay (teacher-forced full-cache generations) of the first ${items.length} prompts of ${modelDir}/eval.jsonl; CPU reference; ${wallSeconds.toFixed(0)} s on ${workerCount} workers.`;
  console.log(replayMarkdown(summaries, header, agreement, accuracy));
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'replay.json'), JSON.stringify({ model: modelDir, prompts: items.length, wallSeconds, summaries, agreement, outcomes: replayed }, null, 1));
  writeFileSync(join(values.out!, 'replay.md'), replayMarkdown(summaries, header, agreement, accuracy));
  console.log(`results ${values.out}/replay.{json,md}`);
  process.exit(0);
}
outcomes.sort((a, b) => a.config - b.config || a.item - b.item);
const summaries = summarise(configs, outcomes);

const workers = values.engine === 'gpu' ? 1 : workerCount;
console.log(`model   ${modelDir}; ${jobs.length} prompts; engine ${engine}, ${workers} workers; wall time ${wallSeconds.toFixed(1)} s`);
console.log('config                         accuracy   think  closed');
for (const s of summaries) {
  console.log(`${s.label.padEnd(30)} ${(100 * s.accuracy).toFixed(1).padStart(7)}% ${s.meanThinkTokens.toFixed(1).padStart(7)} ${(100 * s.closedThinkShare).toFixed(1).padStart(6)}%`);
  if (s.report) {
    // Each group's counts ("group/name") as shares of the group.
    const groups = new Map<string, [string, number][]>();
    for (const [key, v] of Object.entries(s.report)) {
      const [group, name] = key.includes('/') ? [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)] : ['', key];
      groups.set(group, [...(groups.get(group) ?? []), [name, v]]);
    }
    for (const [group, rows] of groups) {
      const all = rows.reduce((a, [, v]) => a + v, 0) || 1;
      console.log(`  ${group ? `${group}: ` : ''}${rows.map(([k, v]) => `${k} ${((100 * v) / all).toFixed(0)}%`).join(', ')}`);
    }
  }
}
mkdirSync(values.out!, { recursive: true });
const header = `Greedy accuracy on ${promptRange} of ${modelDir}/eval.jsonl; ${engine}; ${wallSeconds.toFixed(0)} s on ${workers} workers.`;
writeFileSync(join(values.out!, 'results.json'), JSON.stringify({ model: modelDir, prompts: jobs.length, skip, engine, wallSeconds, summaries, outcomes }, null, 1));
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
