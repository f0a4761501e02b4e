/**
 * Runs one eviction policy over the paged KV layout: folds each query's attention into the
 * policy state, initialises new entries, and before each new token evicts from every head that
 * is full (per head, per layer or across the model, as the policy decides). `all` mode cuts the
 * prompt to the budget after prefill. Every decision is recorded, so the GPU engine and the CPU
 * reference can be compared decision by decision. Plain data; the CPU reference drives it.
 */
import { assert } from '../assert.ts';
import { checkBudget, type BudgetSpec } from '../kv/budget.ts';
import { compactHeads } from '../kv/compact.ts';
import { evictSlot, physicalSlot, type KvLayout } from '../kv/kv-layout.ts';
import { createPolicyState, resetSlot, type EvictionPolicy, type HeadSlots, type PolicyState } from './policy.ts';
import { budgetFloor, budgetsFull, reallocateBudgets } from './reallocate.ts';
import { lowestCandidate, lowestPosition, markCandidates } from './select.ts';

export interface Eviction {
  /** Position of the token about to be written (or the first decode position, for the cut). */
  at: number;
  layer: number;
  kvHead: number;
  /** Position of the evicted entry. */
  position: number;
}

interface HeadView extends HeadSlots {
  logical: Int32Array; // logical slot of each valid entry (the attention row's index)
}

export interface BudgetChange {
  /** Position of the token about to be written. */
  at: number;
  budgets: Int32Array; // (layers * kvHeads)
}

/** What a per-head choice saw: for tests that check the victim is the lowest candidate. */
export type DecisionAudit = (head: HeadSlots, scores: Float64Array, candidate: Uint8Array, victim: number) => void;

export interface Evictor {
  policy: EvictionPolicy;
  /** Called with every per-head choice (tests). */
  audit?: DecisionAudit;
  state: PolicyState;
  /** (layers * kvHeads) most entries each head may hold; Infinity-like for `full`. */
  limits: Int32Array;
  /** (layers * kvHeads) each head's budget (limits less the kept prompt in `think` mode). */
  budgets: Int32Array;
  decisions: Eviction[];
  /** Every re-division of the budgets (crystal): the step and each head's new budget. */
  rebalances: BudgetChange[];
  /**
   * Called with the moves (count, 2) [from, to] of physical slots after heads whose budget shrank
   * were compacted (kv/compact.ts); the engine moves K and V, the evictor has moved its state.
   */
  onCompact?: (moves: Uint32Array) => void;
  /** Folds `rows` queries' attention (probs (rows, heads, maxSlots) by logical slot) of one layer. */
  observe(layer: number, probs: Float64Array, rows: number, posStart: number, heads: number, maxSlots: number): void;
  /** Initialises the state of one layer's entries just written (slotMap as kv-layout returns it). */
  admit(layer: number, slotMap: Uint32Array, rows: number, posStart: number, valueNorm?: (kvHead: number, t: number) => number): void;
  /** Called once the prompt is in the cache: `all` mode cuts every head to its budget. */
  afterPrefill(promptLength: number): void;
  /** Before the token at `position` is written: evicts from every full head. */
  makeRoom(position: number): void;
  /** Entries each head holds now, (layers * kvHeads). */
  counts(): Int32Array;
}

const UNLIMITED = 0x7fffffff;

export function createEvictor(policy: EvictionPolicy, layout: KvLayout, spec: BudgetSpec | null, numHeads: number): Evictor {
  const g = layout.geometry;
  const heads = g.numLayers * g.numKvHeads;
  const group = numHeads / g.numKvHeads;
  if (spec && policy.id !== 'full') checkBudget(spec, policy);
  const state = createPolicyState(g.numPages * g.pageSize, policy.historyWindow);
  const limits = new Int32Array(heads).fill(UNLIMITED);
  const budgets = new Int32Array(heads).fill(spec?.budget ?? 0);
  const decisions: Eviction[] = [];
  const rebalances: BudgetChange[] = [];
  let promptLength = 0;
  const capacity = g.maxPagesPerHead * g.pageSize;
  const view: HeadView = {
    layer: 0,
    kvHead: 0,
    slots: new Int32Array(capacity),
    positions: new Int32Array(capacity),
    logical: new Int32Array(capacity),
    length: 0,
  };
  const attention = new Float64Array(capacity);
  const scores = new Float64Array(capacity);
  const candidate = new Uint8Array(capacity);
  const evicting = spec !== null && policy.id !== 'full';

  function gather(layer: number, kvHead: number, v: HeadView = view): HeadView {
    const used = layout.headSlots[layer * g.headSlotsLayerStride + kvHead];
    let n = 0;
    for (let s = 0; s < used; s++) {
      const slot = physicalSlot(layout, layer, kvHead, s);
      const pos = layout.slotPos[slot];
      if (pos < 0) continue;
      v.slots[n] = slot;
      v.positions[n] = pos;
      v.logical[n] = s;
      n++;
    }
    v.layer = layer;
    v.kvHead = kvHead;
    v.length = n;
    return v;
  }

  const protectBelow = () => (spec?.mode === 'think' ? promptLength : 0);

  /** Scores and candidates of one head; returns the candidate count. */
  function scoreHead(v: HeadView, position: number): number {
    policy.score(state, v, position, scores);
    return markCandidates(v, policy.sinks, policy.recent, protectBelow(), candidate);
  }

  function evictPosition(layer: number, kvHead: number, v: HeadView, index: number, at: number) {
    decisions.push({ at, layer, kvHead, position: v.positions[index] });
    evictSlot(layout, layer, kvHead, v.logical[index]);
  }

  /** Evicts one entry from head (layer, kvHead) by its own scores. */
  function evictFromHead(layer: number, kvHead: number, at: number): void {
    const v = gather(layer, kvHead);
    scoreHead(v, at);
    const victim = lowestCandidate(v, scores, candidate, policy.nearTie);
    assert(victim >= 0, `head (${layer}, ${kvHead}) is full but every entry is protected`);
    evictor.audit?.(v, scores, candidate, victim);
    evictPosition(layer, kvHead, v, victim, at);
  }

  /** Evicts the `k` lowest candidates of a head, scored once (burst compression, prompt cut). */
  function evictLowest(layer: number, kvHead: number, k: number, at: number): void {
    const v = gather(layer, kvHead);
    scoreHead(v, at);
    const order: number[] = [];
    for (let i = 0; i < v.length; i++) if (candidate[i]) order.push(i);
    order.sort((a, b) => scores[a] - scores[b] || v.logical[a] - v.logical[b]);
    assert(order.length >= k, `head (${layer}, ${kvHead}) must drop ${k} entries but only ${order.length} may go`);
    const chosen = order.slice(0, k).map((i) => {
      evictor.audit?.(v, scores, candidate, i); // each is the lowest of the candidates left
      candidate[i] = 0;
      return [v.positions[i], v.logical[i]];
    });
    for (const [position, logical] of chosen) {
      decisions.push({ at, layer, kvHead, position });
      evictSlot(layout, layer, kvHead, logical);
    }
  }

  /** TOVA: one position per layer, by the mean of the heads' scores of that position. */
  function evictFromLayer(layer: number, at: number): void {
    const total = new Map<number, number>();
    let first: HeadView | null = null;
    for (let h = 0; h < g.numKvHeads; h++) {
      const v = gather(layer, h);
      scoreHead(v, at);
      for (let i = 0; i < v.length; i++) {
        if (!candidate[i]) continue;
        total.set(v.positions[i], (total.get(v.positions[i]) ?? 0) + scores[i] / g.numKvHeads);
      }
      if (h === 0) first = v;
    }
    assert(first !== null && total.size > 0, `layer ${layer} is full but every entry is protected`);
    const best = lowestPosition(total, policy.nearTie ?? 0);
    for (let h = 0; h < g.numKvHeads; h++) {
      const v = gather(layer, h);
      const i = v.positions.subarray(0, v.length).indexOf(best);
      assert(i >= 0, `TOVA: head (${layer}, ${h}) lacks position ${best}`);
      evictPosition(layer, h, v, i, at);
    }
  }

  /** LaProx: the lowest score across every head of the model, each layer's scores divided by their mean. */
  function evictFromModel(at: number): void {
    let best = { score: Infinity, layer: -1, kvHead: -1, position: -1 };
    for (let l = 0; l < g.numLayers; l++) {
      let sum = 0;
      let count = 0;
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(l, h);
        policy.score(state, v, at, scores);
        for (let i = 0; i < v.length; i++) sum += scores[i];
        count += v.length;
      }
      const mean = sum / Math.max(1, count) || 1;
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(l, h);
        scoreHead(v, at);
        for (let i = 0; i < v.length; i++) {
          if (!candidate[i]) continue;
          const s = scores[i] / mean;
          if (s < best.score || (s === best.score && v.positions[i] < best.position)) {
            best = { score: s, layer: l, kvHead: h, position: v.positions[i] };
          }
        }
      }
    }
    assert(best.layer >= 0, 'the model cache is full but every entry is protected');
    const v = gather(best.layer, best.kvHead);
    evictPosition(best.layer, best.kvHead, v, v.positions.subarray(0, v.length).indexOf(best.position), at);
  }

  /**
   * Crystal: re-divides the budgets by each head's load, its live entries: those the budget counts
   * that were hit (or written) within the last R steps (stamp: the step of the last hit).
   */
  function rebalance(position: number): void {
    const loads = new Float64Array(heads);
    const since = position - policy.rebalance!.period;
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(l, h);
        let load = 0;
        for (let i = 0; i < v.length; i++) if (v.positions[i] >= protectBelow() && state.stamp[v.slots[i]] >= since) load++;
        loads[l * g.numKvHeads + h] = load;
      }
    }
    const floor = budgetFloor(policy.rebalance!.floor, spec!.budget, policy.recent);
    budgets.set(reallocateBudgets(loads, budgets, g.numLayers, g.numKvHeads, floor));
    for (let i = 0; i < heads; i++) limits[i] = budgets[i] + protectBelow();
    rebalances.push({ at: position, budgets: budgets.slice() });
  }

  /** Moving budgets: heads holding more pages than their limit needs give them back to the pool. */
  function compact(): void {
    if (!policy.rebalance) return;
    const moves = compactHeads(layout, limits);
    if (moves.length === 0) return;
    const w = policy.historyWindow;
    for (let i = 0; i < moves.length; i += 2) {
      const [from, to] = [moves[i], moves[i + 1]];
      state.score[to] = state.score[from];
      state.stamp[to] = state.stamp[from];
      if (w > 0) state.history.copyWithin(to * w, from * w, (from + 1) * w);
    }
    evictor.onCompact?.(moves);
  }

  function over(l: number, h: number, extra: number): boolean {
    return layout.count[l * g.numKvHeads + h] + extra > limits[l * g.numKvHeads + h];
  }

  /** Evicts until every head fits its limit with `extra` more entries. */
  function shrinkToLimits(at: number, extra: number): void {
    if (policy.granularity === 'model') {
      let total = 0;
      let limit = 0;
      for (let i = 0; i < heads; i++) {
        total += layout.count[i];
        limit += limits[i];
      }
      for (; total + extra * heads > limit; total--) evictFromModel(at);
      return;
    }
    for (let l = 0; l < g.numLayers; l++) {
      if (policy.granularity === 'layer') {
        while (over(l, 0, extra)) evictFromLayer(l, at);
        continue;
      }
      for (let h = 0; h < g.numKvHeads; h++) {
        const i = l * g.numKvHeads + h;
        const excess = layout.count[i] + extra - limits[i];
        if (excess <= 0) continue;
        // Bursts drop a share of the budget at once; the prompt cut (extra 0) drops exactly the excess.
        if (policy.burst && extra > 0) evictLowest(l, h, excess + Math.floor(policy.burst * budgets[i]), at);
        else if (policy.burst) evictLowest(l, h, excess, at);
        else while (over(l, h, extra)) evictFromHead(l, h, at);
      }
    }
  }

  const evictor: Evictor = {
    policy,
    state,
    limits,
    budgets,
    decisions,
    rebalances,
    observe(layer, probs, rows, posStart, numHeads, maxSlots) {
      if (!policy.observe) return;
      for (let kvHead = 0; kvHead < g.numKvHeads; kvHead++) {
        const v = gather(layer, kvHead);
        for (let t = 0; t < rows; t++) {
          const position = posStart + t;
          for (let i = 0; i < v.length; i++) {
            let sum = 0;
            let max = 0;
            for (let q = 0; q < group; q++) {
              const a = probs[(t * numHeads + kvHead * group + q) * maxSlots + v.logical[i]];
              sum += a;
              max = Math.max(max, a);
            }
            // Entries newer than this query were masked: their probability is 0 by construction.
            attention[i] = v.positions[i] <= position ? (policy.combine === 'max' ? max : sum / group) : 0;
          }
          policy.observe(state, v, attention, position);
        }
      }
    },
    admit(layer, slotMap, rows, posStart, valueNorm) {
      for (let t = 0; t < rows; t++) {
        for (let h = 0; h < g.numKvHeads; h++) {
          const slot = slotMap[layer * g.slotMapLayerStride + t * g.numKvHeads + h];
          if (policy.admit) policy.admit(state, slot, posStart + t, valueNorm ? valueNorm(h, t) : 0);
          else resetSlot(state, slot, policy.historyWindow);
        }
      }
    },
    afterPrefill(length) {
      promptLength = length;
      if (!evicting) return;
      limits.fill(spec!.mode === 'think' ? length + spec!.budget : spec!.budget);
      shrinkToLimits(length, 0);
      compact(); // `all` mode: the prompt's pages past the budget
    },
    makeRoom(position) {
      if (!evicting) return;
      const step = position - promptLength;
      const rebalancing =
        policy.rebalance !== undefined && step > 0 && step % policy.rebalance.period === 0 && budgetsFull(layout.count, limits);
      if (rebalancing) rebalance(position);
      shrinkToLimits(position, 1);
      if (rebalancing) compact();
    },
    counts: () => layout.count.slice(),
  };
  return evictor;
}
