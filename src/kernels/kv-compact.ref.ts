/**
 * CPU reference of kv-compact.wgsl: for each move [from, to] of physical slots, the K and V rows
 * and the per-slot state at `from` are copied to `to`, and slotPos[from] becomes -1. An exact
 * copy, so the kernel must match bit for bit. The CPU reference engine moves its K/V pools with it.
 */
import { assert } from '../assert.ts';

export interface KvCompactRefArgs {
  moves: ArrayLike<number>; // (count, 2) [from, to] physical slots; sources and destinations disjoint
  headDim: number;
  k: Float32Array | Float64Array; // (numSlots, headDim), moved in place
  v: Float32Array | Float64Array; // (numSlots, headDim), moved in place
  slotPos?: Int32Array; // (numSlots) absolute position, -1 if empty (the engine's layout moves its own)
  score?: Float32Array | Float64Array; // (numSlots) policy score
  stamp?: Float32Array | Float64Array; // (numSlots) crystal: step of the last hit
  history?: Float32Array | Float64Array; // (numSlots, window) the policy's attention ring
  window?: number;
  probe?: Float32Array | Float64Array; // (numSlots) the answer-first probe's score
}

export function kvCompactRef(a: KvCompactRefArgs): void {
  const d = a.headDim;
  const sources = new Set<number>();
  for (let i = 0; i < a.moves.length; i += 2) sources.add(a.moves[i]);
  for (let i = 0; i < a.moves.length; i += 2) {
    const from = a.moves[i];
    const to = a.moves[i + 1];
    assert(!sources.has(to), `slot ${to} is both a source and a destination: the moves must be disjoint`);
    a.k.copyWithin(to * d, from * d, (from + 1) * d);
    a.v.copyWithin(to * d, from * d, (from + 1) * d);
    if (a.slotPos) {
      a.slotPos[to] = a.slotPos[from];
      a.slotPos[from] = -1;
    }
    if (a.score) a.score[to] = a.score[from];
    if (a.stamp) a.stamp[to] = a.stamp[from];
    if (a.probe) a.probe[to] = a.probe[from];
    const w = a.window ?? 0;
    if (a.history && w > 0) a.history.copyWithin(to * w, from * w, (from + 1) * w);
  }
}
