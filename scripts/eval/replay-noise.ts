/**
 * How many prompts each instrument needs: from a replay (replay.json) and free-running results
 * (results.json, comma-separated) of the same model and prompts, the Spearman rank correlation
 * of each figure measured on the first N prompts with free-running accuracy on all its prompts, per
 * budget and averaged over the budgets. Free-running accuracy on N prompts against itself on all
 * is the baseline a replay figure has to beat to be the cheaper instrument.
 *
 *   tsx scripts/eval/replay-noise.ts docs/eval/replay/replay.json docs/eval/results.json[,more.json] [25,50,100]
 */
import { readFileSync } from 'node:fs';
import type { ReplayOutcome } from './replay.ts';
import { spearman, type ReplaySummary } from './replay-report.ts';
import type { EvalOutcome, EvalSummary } from './score.ts';

const [replayFile, accuracyFiles, sizesArg] = process.argv.slice(2);
if (!replayFile || !accuracyFiles) {
  console.error('usage: tsx scripts/eval/replay-noise.ts replay.json results.json[,more.json] [25,50,100]');
  process.exit(2);
}
const replay = JSON.parse(readFileSync(replayFile, 'utf8')) as { prompts: number; summaries: ReplaySummary[]; outcomes: ReplayOutcome[] };
const free = accuracyFiles.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as { summaries: EvalSummary[]; outcomes: EvalOutcome[] });

/** Free-running correctness by label, then prompt. */
const correct = new Map<string, Map<number, boolean>>();
for (const f of free) {
  for (const o of f.outcomes) {
    const label = f.summaries[o.config].label;
    if (!correct.has(label)) correct.set(label, new Map());
    correct.get(label)!.set(o.item, o.correct);
  }
}
const cells = replay.summaries
  .map((s, config) => ({ ...s, config }))
  .filter((s) => s.budget !== null && !s.policy.startsWith('oracle') && correct.has(s.label));
const budgets = [...new Set(cells.map((c) => c.budget!))].sort((a, b) => a - b);
const truth = Math.min(...cells.map((c) => correct.get(c.label)!.size)); // free-running accuracy on all its prompts: the ranking to predict
const prompts = Math.min(replay.prompts, truth);
const sizes = (sizesArg ? sizesArg.split(',').map(Number) : [25, 50, 100]).filter((n) => n < prompts).concat(prompts);

const accuracyOn = (label: string, n: number) => {
  let k = 0;
  for (let i = 0; i < n; i++) k += correct.get(label)!.get(i) ? 1 : 0;
  return k / n;
};
const replayOn = (config: number, n: number, field: 'lostMass' | 'kl' | 'top1' | 'answerLostMass') => {
  const mine = replay.outcomes.filter((o) => o.config === config && o.item < n && !Number.isNaN(o[field])).map((o) => o[field]);
  return mine.reduce((s, x) => s + x, 0) / mine.length;
};

console.log(`${replayFile}: ${cells.length} (policy, budget) cells, budgets ${budgets.join(', ')}; Spearman with free-running accuracy on all ${truth} prompts, mean over budgets`);
console.log('prompts  lost mass  answer lost      KL   top-1  free-running accuracy');
for (const n of sizes) {
  const rho = (figure: (c: (typeof cells)[number]) => number) =>
    budgets
      .map((b) => {
        const rows = cells.filter((c) => c.budget === b);
        return spearman(rows.map(figure), rows.map((c) => accuracyOn(c.label, truth)));
      })
      .reduce((s, x) => s + x, 0) / budgets.length;
  const cols = [rho((c) => -replayOn(c.config, n, 'lostMass')), rho((c) => -replayOn(c.config, n, 'answerLostMass')), rho((c) => -replayOn(c.config, n, 'kl')), rho((c) => replayOn(c.config, n, 'top1')), rho((c) => accuracyOn(c.label, n))];
  console.log(`${String(n).padStart(7)}  ${cols.map((x) => x.toFixed(2).padStart(10)).join(' ')}`);
}
