/**
 * The eviction-policy interface (kvpress's one-method press, made decoding-time). A policy keeps
 * per-slot state, folds each query's attention into it, and scores slots: the lowest score is
 * evicted first. Protection (sinks, recent window, the prompt in `think` mode) and the choice of
 * the victim live once, in select.ts. State is indexed by physical slot, as on the GPU.
 */

export type Granularity = 'head' | 'layer' | 'model';

/** Per-slot policy state, (numSlots) each; history is (numSlots, historyWindow). */
export interface PolicyState {
  score: Float64Array; // accumulated attention (h2o), CRF (crystal), last attention (tova), ...
  stamp: Float64Array; // crystal: step of the last hit (tau); laprox: value-norm constant
  history: Float64Array; // last W attention values, ring-indexed by query position % W
  /** The key pool, for policies that compare keys (r-kv): (numSlots, dim). Set by the engine. */
  keys?: { data: ArrayLike<number>; dim: number };
}

/** One (layer, kvHead): its valid slots, as physical slot ids with their positions. */
export interface HeadSlots {
  layer: number;
  kvHead: number;
  slots: Int32Array; // physical slot ids of the head's valid entries
  positions: Int32Array; // their absolute positions
  length: number;
}

export interface EvictionPolicy {
  readonly id: string;
  /** arXiv id and title. */
  readonly paper: string;
  readonly summary: string;
  readonly granularity: Granularity;
  /** The first `sinks` positions of a head are never evicted. */
  readonly sinks: number;
  /** The `recent` newest entries of a head are never evicted. */
  readonly recent: number;
  /** How the KV group's query heads' attention rows combine before observe (default mean). */
  readonly combine?: 'mean' | 'max';
  /** Attention values of past queries kept per slot (0: none). */
  readonly historyWindow: number;
  /** Budgets re-divided by utilisation every `period` decode steps, each head keeping `floor` of the uniform budget (crystal). */
  readonly rebalance?: { period: number; floor: number };
  /**
   * Scores within this relative distance of the lowest count as tied (the layer decision): what f32
   * attention cannot order, so the GPU engine and the CPU reference decide alike.
   */
  readonly nearTie?: number;
  /** Evicts in bursts: a full head drops this share of its budget at once (r-kv's buffer). */
  readonly burst?: number;
  /** Whether the engine must supply the key pool (r-kv). */
  readonly needsKeys?: boolean;
  /** Whether the engine must supply ||v W_O|| per new entry (laprox). */
  readonly needsValueNorm?: boolean;
  /** A new entry written at `position`. Default: zero state. */
  admit?(state: PolicyState, slot: number, position: number, valueNorm: number): void;
  /**
   * The attention one query (at `position`) paid to the head's valid entries, combined over the
   * query heads of the KV group: attention[i] belongs to head.slots[i].
   */
  observe?(state: PolicyState, head: HeadSlots, attention: Float64Array, position: number): void;
  /** Scores of the head's valid entries at step `position` (lowest is evicted first). */
  score(state: PolicyState, head: HeadSlots, position: number, out: Float64Array): void;
}

export function createPolicyState(numSlots: number, historyWindow: number): PolicyState {
  return {
    score: new Float64Array(numSlots),
    stamp: new Float64Array(numSlots),
    history: new Float64Array(numSlots * Math.max(1, historyWindow)),
  };
}

/** Default admit: a new entry starts from zero. */
export function resetSlot(state: PolicyState, slot: number, historyWindow: number): void {
  state.score[slot] = 0;
  state.stamp[slot] = 0;
  if (historyWindow > 0) state.history.fill(0, slot * historyWindow, (slot + 1) * historyWindow);
}
