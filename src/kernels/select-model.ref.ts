/**
 * CPU reference of select-model.wgsl: the CPU chooser's fromModel repeated, in f64 — the policy's
 * own score per head (laprox's, passed in as scoreOf), each layer's mean, select.ts's candidates,
 * the lowest (score / mean, position) first, the victim removed before the next choice.
 */
import type { PolicyState } from './policy-state.ts';
import { markCandidates } from './select.ts';
import type { ModelTables } from './model-tables.ts';
import { layerHeadEntries, type ScoreFn } from './head-entries.ref.ts';
import { NO_CANDIDATE, NOT_FULL } from './eviction-rules.ts';

export interface SelectModelRefArgs extends ModelTables<ArrayLike<number>> {
  scoreOf: ScoreFn; // laprox's score (its window and pool)
  sinks: number;
  recent: number;
  cap: number;
  protectBelow: number;
  evict: number;
  history: ArrayLike<number>; // (numSlots, the policy's window)
  stamp: ArrayLike<number>; // (numSlots)
}

/** The victims list: min(evict, cap) pairs (layer * kvHeads + head, logical slot), then NOT_FULL if shorter than cap. */
export function selectModelRef(a: SelectModelRefArgs): Uint32Array {
  const state: PolicyState = {
    score: new Float64Array(a.stamp.length),
    stamp: Float64Array.from(a.stamp),
    history: Float64Array.from(a.history),
    probe: new Float64Array(a.history.length),
  };
  const gone = new Set<number>();
  const gather = (l: number, h: number) => {
    const head = layerHeadEntries(a, l, h, (slot) => gone.has(slot));
    const scores = new Float64Array(head.length);
    a.scoreOf(state, head, 0, scores);
    return { head, logical: head.logical, scores };
  };
  const want = Math.min(a.evict, a.cap);
  const out: number[] = [];
  for (let k = 0; k < want; k++) {
    let best = { score: Infinity, head: -1, position: -1, logical: -1, slot: -1 };
    for (let l = 0; l < a.layers; l++) {
      const views = Array.from({ length: a.kvHeads }, (_, h) => gather(l, h));
      let sum = 0;
      let count = 0;
      for (const v of views) {
        for (let i = 0; i < v.head.length; i++) sum += v.scores[i];
        count += v.head.length;
      }
      const mean = sum / Math.max(1, count) || 1;
      views.forEach((v, h) => {
        const candidate = new Uint8Array(v.head.length);
        markCandidates(v.head, a.sinks, a.recent, a.protectBelow, candidate);
        for (let i = 0; i < v.head.length; i++) {
          if (!candidate[i]) continue;
          const s = v.scores[i] / mean;
          if (s < best.score || (s === best.score && v.head.positions[i] < best.position)) {
            best = { score: s, head: l * a.kvHeads + h, position: v.head.positions[i], logical: v.logical[i], slot: v.head.slots[i] };
          }
        }
      });
    }
    if (best.head < 0) {
      out.push(NO_CANDIDATE, 0);
      continue;
    }
    out.push(best.head, best.logical);
    gone.add(best.slot);
  }
  if (want < a.cap) out.push(NOT_FULL);
  return Uint32Array.from(out);
}
