/**
 * The replay instrument's summary (replay.ts): per config the means over prompts, and how well
 * the replay's ranking of policies predicts the free-running accuracy ranking (Spearman's rank
 * correlation, per budget and over every (policy, budget) cell), read from a results.json of
 * `npm run eval` on the same model, budgets and prompts.
 */
import type { ReplayOutcome } from './replay.ts';
import type { EvalConfig, EvalSummary } from './score.ts';

export interface ReplaySummary {
  label: string;
  policy: string; // the series name
  mode: string;
  budget: number | null;
  prompts: number;
  lostMass: number;
  kl: number;
  top1: number;
  answerLostMass: number;
  answerTop1: number;
}

const meanOf = (xs: number[]) => {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : NaN;
};

export function summariseReplay(configs: EvalConfig[], outcomes: ReplayOutcome[]): ReplaySummary[] {
  return configs.map((c, i) => {
    const mine = outcomes.filter((o) => o.config === i);
    return {
      label: c.label,
      policy: c.series ?? c.policy,
      mode: c.mode,
      budget: c.budget,
      prompts: mine.length,
      lostMass: meanOf(mine.map((o) => o.lostMass)),
      kl: meanOf(mine.map((o) => o.kl)),
      top1: meanOf(mine.map((o) => o.top1)),
      answerLostMass: meanOf(mine.map((o) => o.answerLostMass)),
      answerTop1: meanOf(mine.map((o) => o.answerTop1)),
    };
  });
}

/** Ranks 1..n, ties sharing their mean rank. */
export function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation (Pearson's over the ranks); NaN with fewer than 3 pairs, a NaN, or a constant side. */
export function spearman(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length < 3 || [...a, ...b].some(Number.isNaN)) return NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

export interface RankAgreement {
  /** Per budget: the policies both runs have, and rho for each replay figure against accuracy. */
  perBudget: { budget: number; policies: number; lostMass: number; answerLostMass: number; kl: number; top1: number }[];
  /** Over every (policy, budget) cell both runs have. */
  pooled: { cells: number; lostMass: number; answerLostMass: number; kl: number; top1: number };
}

/**
 * How the replay ranks against free-running accuracy. A lower lost mass or KL and a higher top-1
 * should mean a higher accuracy, so lost mass and KL enter negated: +1 is a perfect prediction.
 * Oracles and the full cache are left out (they are references, not candidates).
 */
export function rankAgreement(replay: ReplaySummary[], accuracy: EvalSummary[]): RankAgreement {
  const acc = new Map(accuracy.map((s) => [s.label, s.accuracy]));
  const cells = replay.filter((r) => r.budget !== null && !r.policy.startsWith('oracle') && acc.has(r.label));
  const rho = (rows: ReplaySummary[]) => ({
    lostMass: spearman(rows.map((r) => -r.lostMass), rows.map((r) => acc.get(r.label)!)),
    answerLostMass: spearman(rows.map((r) => -r.answerLostMass), rows.map((r) => acc.get(r.label)!)),
    kl: spearman(rows.map((r) => -r.kl), rows.map((r) => acc.get(r.label)!)),
    top1: spearman(rows.map((r) => r.top1), rows.map((r) => acc.get(r.label)!)),
  });
  const budgets = [...new Set(cells.map((r) => r.budget!))].sort((a, b) => a - b);
  return {
    perBudget: budgets.map((budget) => {
      const rows = cells.filter((r) => r.budget === budget);
      return { budget, policies: rows.length, ...rho(rows) };
    }),
    pooled: { cells: cells.length, ...rho(cells) },
  };
}

const pct = (x: number) => (Number.isNaN(x) ? '–' : (100 * x).toFixed(1));
const num = (x: number, d = 3) => (Number.isNaN(x) ? '–' : x.toFixed(d));

export function replayMarkdown(summaries: ReplaySummary[], header: string, agreement?: RankAgreement, accuracy?: EvalSummary[]): string {
  const acc = new Map((accuracy ?? []).map((s) => [s.label, s.accuracy]));
  const lines = [
    header,
    '',
    '| config | lost mass % | KL (nats) | top-1 % | answer: lost mass % | answer: top-1 % | free-running accuracy % |',
    '|---|---|---|---|---|---|---|',
    ...summaries.map((s) => `| ${s.label} | ${pct(s.lostMass)} | ${num(s.kl)} | ${pct(s.top1)} | ${pct(s.answerLostMass)} | ${pct(s.answerTop1)} | ${acc.has(s.label) ? pct(acc.get(s.label)!) : '–'} |`),
  ];
  if (agreement) {
    lines.push('', 'Spearman rank correlation of the replay figure with free-running accuracy (+1: the replay orders the policies exactly as accuracy does):', '');
    lines.push('| budget | policies | lost mass | answer: lost mass | KL | top-1 |', '|---|---|---|---|---|---|');
    for (const b of agreement.perBudget) lines.push(`| ${b.budget} | ${b.policies} | ${num(b.lostMass, 2)} | ${num(b.answerLostMass, 2)} | ${num(b.kl, 2)} | ${num(b.top1, 2)} |`);
    const p = agreement.pooled;
    lines.push(`| all cells | ${p.cells} | ${num(p.lostMass, 2)} | ${num(p.answerLostMass, 2)} | ${num(p.kl, 2)} | ${num(p.top1, 2)} |`);
  }
  return lines.join('\n') + '\n';
}
