/**
 * One finished run as a compare card: the settings, the answer (checked when the prompt is an
 * eval prompt), think length, peak KV bytes and speed, and the think text, collapsed. Text only.
 */
import type { GenerationResult } from '../engine/interface.ts';

export interface RunSummary {
  label: string;
  result: GenerationResult;
  peakBytes: number;
  /** null: the prompt's answer is not known. */
  correct: boolean | null;
}

function text<K extends keyof HTMLElementTagNameMap>(tag: K, content: string, className = ''): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

export function createCompareCard(root: HTMLElement, run: RunSummary): void {
  const r = run.result;
  root.textContent = '';
  root.className = 'card';
  root.dataset.finished = 'true';
  const verdict = run.correct === null ? '' : run.correct ? ' ✓ correct' : ' ✗ wrong';
  const answer = text('pre', r.answer || '(no answer)', 'answer');
  root.append(text('h3', run.label), answer, text('p', verdict.trim(), run.correct ? 'correct' : 'wrong'));
  const stats = document.createElement('dl');
  stats.className = 'stats';
  const rows: [string, string][] = [
    ['think length', `${r.thinkTokens} tokens${r.closedThink ? '' : ' (</think> not reached)'}`],
    ['peak KV held', `${(run.peakBytes / 2 ** 20).toFixed(3)} MiB`],
    ['tokens/s', r.tokensPerSecond.toFixed(1)],
    ['first token', `${r.timeToFirstTokenMs.toFixed(0)} ms`],
  ];
  for (const [term, value] of rows) stats.append(text('dt', term), text('dd', value));
  const details = document.createElement('details');
  const thinkEnd = r.text.indexOf('</think>');
  details.append(text('summary', 'Thinking'), text('pre', thinkEnd >= 0 ? r.text.slice(0, thinkEnd) : r.text));
  root.append(stats, details);
}
