/**
 * The per-slot state an eviction policy keeps, indexed by physical slot like K and V, so the
 * cache that owns the slots owns it too and compaction moves it with them (kv/host-kv-cache.ts on
 * the CPU, kv/kv-cache.ts on the GPU). HeadSlots is one head's valid entries, as policies see them.
 */

/** Per-slot policy state, (numSlots) each; history is (numSlots, historyWindow). */
export interface PolicyState {
  score: Float64Array; // accumulated attention (h2o), CRF (crystal), last attention (tova), ...
  stamp: Float64Array; // crystal: step of the last hit (tau); laprox: value-norm constant
  history: Float64Array; // last W attention values, ring-indexed by query position % W
  probe: Float64Array; // the answer-first probe's decayed maximum attention (policies/probe.ts)
  /** The key pool, for policies that compare keys (r-kv): (numSlots, dim). Set by the cache. */
  keys?: { data: ArrayLike<number>; dim: number };
  /** The value pool (numSlots, dim), for policies that weigh entries by their value (expected attention). Set by the CPU cache. */
  values?: { data: ArrayLike<number>; dim: number };
  /**
   * The model's rotary tables (maxPositions, dim / 2) and head counts, for policies that rotate
   * queries to future positions (expected attention). Set by the CPU reference.
   */
  rope?: { cos: ArrayLike<number>; sin: ArrayLike<number>; heads: number; kvHeads: number };
}

/** One (layer, kvHead): its valid slots, as physical slot ids with their positions. */
export interface HeadSlots {
  layer: number;
  kvHead: number;
  slots: Int32Array; // physical slot ids of the head's valid entries
  positions: Int32Array; // their absolute positions
  length: number;
}

export function createPolicyState(numSlots: number, historyWindow: number): PolicyState {
  return {
    score: new Float64Array(numSlots),
    stamp: new Float64Array(numSlots),
    history: new Float64Array(numSlots * Math.max(1, historyWindow)),
    probe: new Float64Array(numSlots),
  };
}

/** Default admit: a new entry starts from zero. */
export function resetSlot(state: PolicyState, slot: number, historyWindow: number): void {
  state.score[slot] = 0;
  state.stamp[slot] = 0;
  state.probe[slot] = 0;
  if (historyWindow > 0) state.history.fill(0, slot * historyWindow, (slot + 1) * historyWindow);
}

/** Moves the state of physical slots (moves: (count, 2) [from, to], kv/compact.ts) with their entries. */
export function movePolicyState(state: PolicyState, moves: Uint32Array, historyWindow: number): void {
  for (let i = 0; i < moves.length; i += 2) {
    const [from, to] = [moves[i], moves[i + 1]];
    state.score[to] = state.score[from];
    state.stamp[to] = state.stamp[from];
    state.probe[to] = state.probe[from];
    if (historyWindow > 0) state.history.copyWithin(to * historyWindow, from * historyWindow, (from + 1) * historyWindow);
  }
}
