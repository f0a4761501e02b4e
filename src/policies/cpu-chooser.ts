/**
 * The CPU reference's side of eviction: folds each query's attention into the policy state
 * (observe), initialises new entries (admit), and answers the driver's rounds with the policy's
 * scores and the shared selection rules (kernels/select.ts): per head, per layer (TOVA: the mean
 * of the heads' scores of one position) or across the model (LaProx: each layer's scores over
 * their mean). The state is the cache's (HostKvCache), indexed by physical slot as on the GPU.
 */
import { assert } from '../assert.ts';
import type { HeadSlots, PolicyState } from '../kernels/policy-state.ts';
import { resetSlot } from '../kernels/policy-state.ts';
import { lowestCandidate, lowestPosition, markCandidates } from '../kernels/select.ts';
import { physicalSlot, type KvLayout } from '../kv/kv-layout.ts';
import type { Victim, VictimChooser, VictimRound } from './eviction-driver.ts';
import type { EvictionPolicy } from './policy.ts';
import { foldProbe } from './probe.ts';

interface HeadView extends HeadSlots {
  logical: Int32Array; // logical slot of each valid entry (the attention row's index)
}

/** What a per-head choice saw: for tests that check the victim is the lowest candidate. */
export type DecisionAudit = (head: HeadSlots, scores: Float64Array, candidate: Uint8Array, victim: number) => void;

export interface CpuPolicyRunner extends VictimChooser {
  policy: EvictionPolicy;
  /** Called with every per-head choice (tests). */
  audit?: DecisionAudit;
  /** Folds `rows` queries' attention (probs (rows, heads, maxSlots) by logical slot) of one layer. */
  observe(layer: number, probs: Float64Array, rows: number, posStart: number, heads: number, maxSlots: number): void;
  /**
   * Folds one step's answer-first probe into state.probe (policies/probe.ts): `seen` is
   * (kvHeads, maxSlots) by logical slot, the most attention any probe row paid each entry, summed
   * over the KV group's query heads.
   */
  observeProbe(layer: number, seen: Float64Array, maxSlots: number): void;
  /** Hands `rows` queries of one layer ((rows, heads, headDim), after the q norm, before RoPE) to a policy that keeps query statistics. */
  observeQueries(layer: number, q: Float64Array, rows: number, posStart: number): void;
  /** Initialises the state of one layer's entries just written (slotMap as kv-layout returns it). */
  admit(layer: number, slotMap: Uint32Array, rows: number, posStart: number, valueNorm?: (kvHead: number, t: number) => number): void;
}

export function createCpuPolicyRunner(
  policy: EvictionPolicy,
  cache: { readonly layout: KvLayout; readonly state: PolicyState },
  numHeads: number,
): CpuPolicyRunner {
  const g = cache.layout.geometry;
  const group = numHeads / g.numKvHeads;
  const state = cache.state;
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

  function gather(layer: number, kvHead: number): HeadView {
    const layout = cache.layout;
    const used = layout.headSlots[layer * g.headSlotsLayerStride + kvHead];
    let n = 0;
    for (let s = 0; s < used; s++) {
      const slot = physicalSlot(layout, layer, kvHead, s);
      const pos = layout.slotPos[slot];
      if (pos < 0) continue;
      view.slots[n] = slot;
      view.positions[n] = pos;
      view.logical[n] = s;
      n++;
    }
    view.layer = layer;
    view.kvHead = kvHead;
    view.length = n;
    return view;
  }

  /** Scores and candidates of one head; returns the candidate count. */
  function scoreHead(v: HeadView, r: VictimRound): number {
    policy.score(state, v, r.at, scores, r.protectBelow);
    return markCandidates(v, policy.sinks, policy.recent, r.protectBelow, candidate);
  }

  /** The lowest candidate of a head, by its own scores. */
  function fromHead(layer: number, kvHead: number, r: VictimRound): Victim {
    const v = gather(layer, kvHead);
    scoreHead(v, r);
    const victim = lowestCandidate(v, scores, candidate, policy.nearTie);
    assert(victim >= 0, `head (${layer}, ${kvHead}) is full but every entry is protected`);
    runner.audit?.(v, scores, candidate, victim);
    return { layer, kvHead, logical: v.logical[victim] };
  }

  /** The `k` lowest candidates of a head, scored once (bursts, and a burst policy's prompt cut). */
  function lowest(layer: number, kvHead: number, k: number, r: VictimRound): Victim[] {
    const v = gather(layer, kvHead);
    scoreHead(v, r);
    const order: number[] = [];
    for (let i = 0; i < v.length; i++) if (candidate[i]) order.push(i);
    order.sort((a, b) => scores[a] - scores[b] || v.logical[a] - v.logical[b]);
    assert(order.length >= k, `head (${layer}, ${kvHead}) must drop ${k} entries but only ${order.length} may go`);
    return order.slice(0, k).map((i) => {
      runner.audit?.(v, scores, candidate, i); // each is the lowest of the candidates left
      candidate[i] = 0;
      return { layer, kvHead, logical: v.logical[i] };
    });
  }

  /** TOVA: one position per layer, by the mean of the heads' scores of that position. */
  function fromLayer(layer: number, r: VictimRound): Victim[] {
    const total = new Map<number, number>();
    for (let h = 0; h < g.numKvHeads; h++) {
      const v = gather(layer, h);
      scoreHead(v, r);
      for (let i = 0; i < v.length; i++) {
        if (!candidate[i]) continue;
        total.set(v.positions[i], (total.get(v.positions[i]) ?? 0) + scores[i] / g.numKvHeads);
      }
    }
    assert(total.size > 0, `layer ${layer} is full but every entry is protected`);
    const best = lowestPosition(total, policy.nearTie ?? 0);
    return Array.from({ length: g.numKvHeads }, (_, h) => {
      const v = gather(layer, h);
      const i = v.positions.subarray(0, v.length).indexOf(best);
      assert(i >= 0, `TOVA: head (${layer}, ${h}) lacks position ${best}`);
      return { layer, kvHead: h, logical: v.logical[i] };
    });
  }

  /** LaProx: the lowest score across every head of the model, each layer's scores divided by their mean. */
  function fromModel(r: VictimRound): Victim {
    let best = { score: Infinity, layer: -1, kvHead: -1, position: -1, logical: -1 };
    for (let l = 0; l < g.numLayers; l++) {
      let sum = 0;
      let count = 0;
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(l, h);
        policy.score(state, v, r.at, scores, r.protectBelow);
        for (let i = 0; i < v.length; i++) sum += scores[i];
        count += v.length;
      }
      const mean = sum / Math.max(1, count) || 1;
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(l, h);
        scoreHead(v, r);
        for (let i = 0; i < v.length; i++) {
          if (!candidate[i]) continue;
          const s = scores[i] / mean;
          if (s < best.score || (s === best.score && v.positions[i] < best.position)) {
            best = { score: s, layer: l, kvHead: h, position: v.positions[i], logical: v.logical[i] };
          }
        }
      }
    }
    assert(best.layer >= 0, 'the model cache is full but every entry is protected');
    return { layer: best.layer, kvHead: best.kvHead, logical: best.logical };
  }

  const runner: CpuPolicyRunner = {
    policy,
    choose(r) {
      const count = cache.layout.count;
      if (policy.granularity === 'model') return [fromModel(r)];
      const victims: Victim[] = [];
      for (let l = 0; l < g.numLayers; l++) {
        if (policy.granularity === 'layer') {
          if (count[l * g.numKvHeads] + r.extra > r.limits[l * g.numKvHeads]) victims.push(...fromLayer(l, r));
          continue;
        }
        for (let h = 0; h < g.numKvHeads; h++) {
          const i = l * g.numKvHeads + h;
          const excess = count[i] + r.extra - r.limits[i];
          if (excess <= 0) continue;
          // Bursts drop a share of the budget at once; the prompt cut (extra 0) drops exactly the excess.
          if (policy.burst) victims.push(...lowest(l, h, excess + (r.extra > 0 ? Math.floor(policy.burst * r.budgets[i]) : 0), r));
          else victims.push(fromHead(l, h, r));
        }
      }
      return victims;
    },
    loads(_at, protectBelow, since) {
      const loads = new Float64Array(g.numLayers * g.numKvHeads);
      for (let l = 0; l < g.numLayers; l++) {
        for (let h = 0; h < g.numKvHeads; h++) {
          const v = gather(l, h);
          let load = 0;
          for (let i = 0; i < v.length; i++) if (v.positions[i] >= protectBelow && state.stamp[v.slots[i]] >= since) load++;
          loads[l * g.numKvHeads + h] = load;
        }
      }
      return loads;
    },
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
    observeQueries(layer, q, rows, posStart) {
      if (!policy.observeQueries) return;
      const width = q.length / rows;
      for (let t = 0; t < rows; t++) policy.observeQueries(state, layer, q.subarray(t * width, (t + 1) * width), posStart + t);
    },
    observeProbe(layer, seen, maxSlots) {
      assert(policy.probe !== undefined, `${policy.id} runs no probe`);
      for (let h = 0; h < g.numKvHeads; h++) {
        const v = gather(layer, h);
        for (let i = 0; i < v.length; i++) foldProbe(state.probe, v.slots[i], seen[h * maxSlots + v.logical[i]], policy.probe.decay);
      }
    },
    admit(layer, slotMap, rows, posStart, valueNorm) {
      for (let t = 0; t < rows; t++) {
        for (let h = 0; h < g.numKvHeads; h++) {
          const slot = slotMap[layer * g.slotMapLayerStride + t * g.numKvHeads + h];
          state.probe[slot] = 0; // a new entry has had no probe's attention, whatever the policy's admit does
          if (policy.admit) policy.admit(state, slot, posStart + t, valueNorm ? valueNorm(h, t) : 0);
          else resetSlot(state, slot, policy.historyWindow);
        }
      }
    },
  };
  return runner;
}
