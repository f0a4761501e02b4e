/**
 * The keep/evict rules every policy shares (kvpress's ScorerPress.compress, per decode step):
 * which entries are candidates (not a sink, not in the recent window, not prompt in `think`
 * mode) and which candidate goes (the lowest score; ties go to the lowest logical slot). Per head, per
 * layer (the heads' scores of one position averaged, TOVA) or across the model (LaProx).
 */
import type { HeadSlots } from './policy-state.ts';

/** Marks candidates: valid entries that are neither sinks, recent, nor protected prompt. */
export function markCandidates(
  head: HeadSlots,
  sinks: number,
  recent: number,
  protectBelow: number, // positions < this are kept (the prompt in think mode), else 0
  out: Uint8Array,
): number {
  const n = head.length;
  // The sinks are the `sinks` lowest positions, the recent window the `recent` highest.
  let sinkCut = -1;
  let recentCut = Infinity;
  if (sinks > 0 || recent > 0) {
    const sorted = Int32Array.from(head.positions.subarray(0, n)).sort();
    if (sinks > 0) sinkCut = sorted[Math.min(sinks, n) - 1];
    if (recent > 0) recentCut = n - recent >= 0 ? sorted[n - recent] : -Infinity;
  }
  let count = 0;
  for (let i = 0; i < n; i++) {
    const p = head.positions[i];
    const ok = p > sinkCut && p < recentCut && p >= protectBelow;
    out[i] = ok ? 1 : 0;
    if (ok) count++;
  }
  return count;
}

/**
 * The layer decision (TOVA): the position with the lowest total, a near-tie (within `nearTie` of
 * the lowest, relative) going to the older position like an exact one; -1 when there is none.
 */
export function lowestPosition(total: ReadonlyMap<number, number>, nearTie: number): number {
  let lowest = Infinity;
  for (const s of total.values()) lowest = Math.min(lowest, s);
  const within = lowest + Math.abs(lowest) * nearTie;
  let best = -1;
  for (const [p, s] of total) if (s <= within && (best < 0 || p < best)) best = p;
  return best;
}

/**
 * Index (into head.slots) of the lowest-scoring candidate; -1 when there is none. With nearTie > 0
 * every score within nearTie (relative) of the lowest counts as equal to it (select-victim's rule).
 */
export function lowestCandidate(head: HeadSlots, scores: Float64Array, candidate: Uint8Array, nearTie = 0): number {
  let within = -Infinity;
  if (nearTie > 0) {
    let lowest = Infinity;
    for (let i = 0; i < head.length; i++) if (candidate[i]) lowest = Math.min(lowest, scores[i]);
    within = lowest + Math.abs(lowest) * nearTie;
  }
  let best = -1;
  for (let i = 0; i < head.length; i++) {
    if (!candidate[i]) continue;
    // Ties go to the first in the head's order, its lowest logical slot: where a cache updated in
    // place (a new entry takes the evicted one's slot) finds its argmin.
    if (scores[i] <= within) return i;
    if (best < 0 || scores[i] < scores[best]) {
      best = i;
    }
  }
  return best;
}
