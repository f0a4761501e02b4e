/**
 * The rule that picks `crystal`'s defaults (docs/eval/crystal-defaults.md), applied to recorded
 * free-running results:
 *   tsx scripts/eval/defaults-rule.ts --candidates 'a;b;...' [--prompts N] [--out file.md] results.json ...
 * Every results.json is read (several per model are merged by config label and prompt); a cell is
 * (model, think budget). Within a cell every series present is ranked by accuracy over the same
 * prompts (the first N, or every prompt that all series ran); equal accuracies share the better
 * rank. A candidate below `random` in any cell is not eligible; the rest are ordered by their
 * worst rank, then by their lowest accuracy (higher first), then by their probe rows per step.
 * The full cache and the oracles are shown, not ranked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { EvalOutcome, EvalSummary } from './score.ts';

interface ResultsFile {
  model: string;
  summaries: EvalSummary[];
  outcomes: EvalOutcome[];
}

/** One series in one cell: its accuracy over the cell's prompts. */
interface Entry {
  series: string;
  params?: Record<string, number>;
  correct: number;
  prompts: number;
}

const UNRANKED = /^(full|oracle)/;

/** Probe rows a series runs per think step: end-of-think, the template's "\n\n", the answer tokens, the lookahead. */
export function probeRows(series: string, params: Record<string, number> = {}): number {
  const probed = series.startsWith('head-choice') || (series.startsWith('answer-probe') && (params.weight ?? 10) > 0);
  return probed ? 1 + 2 + (params.answer ?? 3) + (params.look ?? 0) : 0;
}

/** Cells keyed "model think B": each series' correct count over the prompts every series ran. */
export function cellsOf(files: ResultsFile[], promptLimit?: number): Map<string, Entry[]> {
  const byCell = new Map<string, Map<string, { params?: Record<string, number>; correct: Map<number, boolean> }>>();
  for (const f of files) {
    const model = basename(f.model);
    f.summaries.forEach((s, config) => {
      if (s.mode !== 'think' || s.budget === null) return;
      const cell = `${model} think ${s.budget}`;
      const series = byCell.get(cell) ?? new Map();
      byCell.set(cell, series);
      const entry = series.get(s.policy) ?? { params: s.params, correct: new Map<number, boolean>() };
      series.set(s.policy, entry);
      for (const o of f.outcomes) if (o.config === config && (promptLimit === undefined || o.item < promptLimit)) entry.correct.set(o.item, o.correct);
    });
  }
  const cells = new Map<string, Entry[]>();
  for (const [cell, series] of byCell) {
    // The prompts every series of the cell ran, so all are ranked on the same prompts.
    const all = [...series.values()];
    const prompts = [...all[0].correct.keys()].filter((i) => all.every((e) => e.correct.has(i)));
    cells.set(
      cell,
      [...series].map(([name, e]) => ({ series: name, params: e.params, correct: prompts.filter((i) => e.correct.get(i)).length, prompts: prompts.length })),
    );
  }
  return cells;
}

/** Ranks by accuracy, 1 = best; equal accuracies share the better rank. Unranked series are left out. */
export function ranks(entries: Entry[]): Map<string, number> {
  const ranked = entries.filter((e) => !UNRANKED.test(e.series));
  return new Map(ranked.map((e) => [e.series, 1 + ranked.filter((o) => o.correct > e.correct).length]));
}

export interface Verdict {
  series: string;
  eligible: boolean;
  worstRank: number;
  lowestAccuracy: number;
  rows: number;
}

/** The rule's order of the candidates: eligible first, then worst rank, lowest accuracy, probe rows. */
export function applyRule(cells: Map<string, Entry[]>, candidates: string[]): Verdict[] {
  const verdicts = candidates.map((series) => {
    let eligible = true;
    let worstRank = 0;
    let lowestAccuracy = 1;
    let rows = 0;
    for (const entries of cells.values()) {
      const mine = entries.find((e) => e.series === series);
      if (!mine) throw new Error(`${series} has no results in a cell (${entries.map((e) => e.series).join(', ')})`);
      const random = entries.find((e) => e.series === 'random');
      if (random && mine.correct < random.correct) eligible = false;
      worstRank = Math.max(worstRank, ranks(entries).get(series)!);
      lowestAccuracy = Math.min(lowestAccuracy, mine.correct / mine.prompts);
      rows = probeRows(series, mine.params);
    }
    return { series, eligible, worstRank, lowestAccuracy, rows };
  });
  return verdicts.sort((a, b) => Number(b.eligible) - Number(a.eligible) || a.worstRank - b.worstRank || b.lowestAccuracy - a.lowestAccuracy || a.rows - b.rows);
}

export function ruleMarkdown(cells: Map<string, Entry[]>, verdicts: Verdict[]): string {
  const names = [...cells.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const series = [...new Set([...cells.values()].flatMap((e) => e.map((x) => x.series)))];
  const candidates = new Set(verdicts.map((v) => v.series));
  const order = [...verdicts.map((v) => v.series), ...series.filter((s) => !candidates.has(s)).sort()];
  const pct = (e: Entry) => `${((100 * e.correct) / e.prompts).toFixed(1)}`;
  const lines = [
    `| series | ${names.join(' | ')} | worst rank | eligible |`,
    `|---|${names.map(() => '---|').join('')}---|---|`,
  ];
  for (const s of order) {
    const cellsText = names.map((n) => {
      const e = cells.get(n)!.find((x) => x.series === s);
      const r = e ? ranks(cells.get(n)!).get(s) : undefined;
      return e ? `${pct(e)}${r ? ` (${r})` : ''}` : '';
    });
    const v = verdicts.find((x) => x.series === s);
    lines.push(`| ${candidates.has(s) ? `**${s}**` : s} | ${cellsText.join(' | ')} | ${v ? v.worstRank : ''} | ${v ? (v.eligible ? 'yes' : 'no (below random)') : ''} |`);
  }
  const prompts = names.map((n) => `${n}: ${cells.get(n)![0].prompts}`).join('; ');
  return `Accuracy % (rank in the cell). Prompts per cell: ${prompts}.\n\n${lines.join('\n')}\n\nThe rule's order: ${verdicts.map((v, i) => `${i + 1}. ${v.series}`).join(', ')}.\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { candidates: { type: 'string' }, prompts: { type: 'string' }, out: { type: 'string' } } });
  const files = positionals.map((p) => JSON.parse(readFileSync(p, 'utf8')) as ResultsFile);
  const cells = cellsOf(files, values.prompts ? Number(values.prompts) : undefined);
  const verdicts = applyRule(cells, (values.candidates ?? '').split(';').map((c) => c.trim()).filter(Boolean)); // series names hold commas
  const text = ruleMarkdown(cells, verdicts);
  console.log(text);
  if (values.out) writeFileSync(values.out, text);
}
