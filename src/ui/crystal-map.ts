/**
 * The CrystalKV / SlipKV map of a finished generation: the think text twice, token by token. Left,
 * the answer-first ranking (engine.analyzeAnswer): the 30% of think entries the answer attended
 * most (CrystalKV) and the 30% it attended least (SlipKV). Right, what the policy kept: each
 * token shaded by the share of (layer, KV head) caches still holding it at the end. Text only.
 */
import type { AnswerFirstAnalysis } from '../engine/interface.ts';

export interface KeptRecord {
  /** Text of each generated position. */
  texts: string[];
  /** Heads that evicted each position. */
  evictions: number[];
  heads: number;
}

function tokenSpan(text: string, className: string, title: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.textContent = text;
  span.className = className;
  span.title = title;
  return span;
}

export function showCrystalMap(root: HTMLElement, analysis: AnswerFirstAnalysis, kept: KeptRecord, policyLabel: string): void {
  root.textContent = '';
  const ranking = document.createElement('pre');
  ranking.className = 'token-map';
  const keptMap = document.createElement('pre');
  keptMap.className = 'token-map';
  const share = { crystal: [0, 0], slip: [0, 0], middle: [0, 0] }; // [sum of kept shares, count]
  for (let p = analysis.thinkStart; p < analysis.thinkEnd; p++) {
    const i = p - analysis.thinkStart;
    const tier = analysis.tier[i];
    const text = kept.texts[p] ?? '';
    const keptShare = 1 - (kept.evictions[p] ?? 0) / kept.heads;
    share[tier][0] += keptShare;
    share[tier][1]++;
    ranking.append(tokenSpan(text, `tier-${tier}`, `position ${p}: answer attention ${analysis.attention[i].toExponential(2)} (${tier})`));
    const span = tokenSpan(text, 'kept', `position ${p}: kept by ${(100 * keptShare).toFixed(0)}% of the heads`);
    span.style.setProperty('--kept', keptShare.toFixed(3));
    keptMap.append(span);
  }
  const pct = ([sum, n]: number[]) => (n > 0 ? `${((100 * sum) / n).toFixed(0)}%` : '–');
  const summary = document.createElement('p');
  summary.className = 'status';
  summary.textContent =
    `${analysis.thinkEnd - analysis.thinkStart} think entries, ranked by the attention of ${analysis.answerQueries} answer queries (full cache). ` +
    `${policyLabel} kept ${pct(share.crystal)} of the CrystalKV (top 30%), ${pct(share.middle)} of the middle and ${pct(share.slip)} of the SlipKV (bottom 30%), averaged over heads.`;
  root.dataset.crystalKept = String(share.crystal[1] ? share.crystal[0] / share.crystal[1] : 0);
  const left = document.createElement('div');
  left.append(Object.assign(document.createElement('h3'), { textContent: 'What the answer read' }), ranking);
  const right = document.createElement('div');
  right.append(Object.assign(document.createElement('h3'), { textContent: `What ${policyLabel} kept` }), keptMap);
  const columns = document.createElement('div');
  columns.className = 'compare';
  columns.append(left, right);
  root.append(summary, columns);
}
