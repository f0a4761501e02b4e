/**
 * Eviction on the GPU engine: per layer, score-update folds the step's attention rows into the
 * per-slot state and select-victim picks each full head's victims, both on the GPU; the victims
 * come back with the sampled token (one read-back per step) and the host applies them to the
 * paged layout before the next token is written, where kv-append reuses a freed slot.
 * crystal re-divides the budgets every R steps and compacts the heads that shrink (gpu-rebalance.ts).
 * Policies whose eviction score depends on the head's other entries (pooling over neighbouring
 * positions, key redundancy) have it recomputed by policy-score before each choice; r-kv's full
 * heads drop a burst of entries at once, listed in the victims buffer. laprox compares entries
 * across the whole model: value-norm writes each new entry's ||W_O v|| once, and after the last
 * layer select-model chooses the step's victims one after another, re-pooling after each.
 * tova decides per layer: every head of a layer drops the position with the lowest mean score.
 * Every registered policy has a GPU rule; `full` evicts nothing.
 */
import { assert } from '../assert.ts';
import { createBuffer, readBuffer, UNIFORM } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { runDispatches, type Dispatch } from '../gpu/kernel.ts';
import { policyScore, type PolicyScoreRule } from '../kernels/policy-score.ts';
import { scoreUpdate, type ScoreRule } from '../kernels/score-update.ts';
import { selectModel } from '../kernels/select-model.ts';
import { NO_CANDIDATE, NOT_FULL, selectVictim, type VictimRule } from '../kernels/select-victim.ts';
import { valueNorm } from '../kernels/value-norm.ts';
import { checkBudget, type BudgetSpec } from '../kv/budget.ts';
import type { KvCache } from '../kv/kv-cache.ts';
import { BINDING_ALIGN_U32, evictSlot, physicalSlot, roundUp, unstrideHeads } from '../kv/kv-layout.ts';
import { CRYSTAL_DEFAULTS } from '../policies/crystal-lite.ts';
import type { BudgetChange, Eviction } from '../policies/evictor.ts';
import { LAPROX_DEFAULTS } from '../policies/laprox.ts';
import { RKV_DEFAULTS } from '../policies/r-kv.ts';
import { createPolicy, type PolicyParams } from '../policies/registry.ts';
import { createGpuRebalance } from './gpu-rebalance.ts';
import { SNAPKV_DEFAULTS } from '../policies/snapkv-d.ts';

/**
 * score: score-update's fold of each step's attention; pooled: policy-score's eviction scores;
 * victim: select-victim's rule, or model: select-model after the last layer.
 */
const GPU_RULES: Record<string, { score?: ScoreRule; pooled?: PolicyScoreRule; victim: VictimRule | 'model' }> = {
  streaming: { victim: 'position' },
  h2o: { score: 'h2o', victim: 'score' },
  'crystal-lite': { score: 'crystal', victim: 'crystal' },
  crystal: { score: 'crystal', victim: 'crystal' },
  'snapkv-d': { score: 'window', pooled: 'snapkv-d', victim: 'score' },
  'r-kv': { score: 'window', pooled: 'r-kv', victim: 'score' },
  laprox: { score: 'window', victim: 'model' },
  tova: { score: 'tova', victim: 'layer' },
};

export const GPU_POLICIES = Object.keys(GPU_RULES);

export interface GpuEviction {
  /** Dispatches that follow layer `l`'s attention. */
  dispatches(layer: number): Dispatch[];
  /** The victims buffer, copied back with the token: (layers, victimStride) u32, or (heads, 2) for model. */
  victims: GPUBuffer;
  /**
   * Before a decode step writes the token at `position`: frees the slots chosen last step, or on
   * crystal's re-division steps re-divides the budgets and evicts and compacts to the new limits.
   */
  makeRoom(position: number): void | Promise<void>;
  /** After the step's slots are reserved: uploads counts, limits and the select parameters. */
  upload(nextPosition: number): void;
  /** The victims read back after a step (the whole victims buffer). */
  setPending(victims: Uint32Array): void;
  /** `all` mode cuts the prompt to the budget, choosing each victim on the GPU. */
  finishPrefill(promptLength: number, run: (dispatches: Dispatch[]) => Promise<Uint32Array>): Promise<void>;
  decisions: Eviction[];
  /** Every re-division of the budgets (crystal). */
  rebalances: BudgetChange[];
  /** (layers * kvHeads) entries each head may hold now. */
  headLimits(): Int32Array;
  destroy(): void;
}

export function createGpuEviction(
  gpu: Gpu,
  kv: KvCache,
  numHeads: number,
  step: GPUBuffer,
  probs: GPUBuffer,
  policyId: string,
  spec: BudgetSpec,
  params: PolicyParams = {},
  /** laprox's value norm: the step's values (T, kvHeads, headDim) and each layer's W_O (hidden, heads * headDim). */
  values?: { v: GPUBuffer; o: readonly GPUBuffer[]; hidden: number },
): GpuEviction {
  const rules = GPU_RULES[policyId];
  if (!rules) {
    throw new Error(
      `The GPU engine evicts with ${GPU_POLICIES.join(', ')} so far; "${policyId}" runs on the CPU reference (choose the CPU engine).`,
    );
  }
  const policy = createPolicy(policyId, params);
  checkBudget(spec, policy);
  const device = gpu.device;
  const g = kv.geometry;
  const slots = g.numPages * g.pageSize;
  const stride = BINDING_ALIGN_U32; // u32s between layers in limits/counts
  const window = Math.max(1, policy.historyWindow);
  // Extra victims a full head drops beyond its excess while decoding (r-kv's burst), and victims per head and step.
  const burst = policy.burst ? Math.floor(policy.burst * spec.budget) : 0;
  const cap = 1 + burst;
  const victimStride = roundUp(g.numKvHeads * cap, BINDING_ALIGN_U32); // u32s between layers in victims
  const heads = g.numLayers * g.numKvHeads;
  const modelWide = rules.victim === 'model'; // a decode step drops at most one entry per head appended
  const score = createBuffer(device, 'policy score', slots * 4); // (numSlots) f32
  const stamp = createBuffer(device, 'policy stamp', slots * 4); // (numSlots) f32
  const history = createBuffer(device, 'policy history', policy.historyWindow > 0 ? slots * window * 4 : 16); // (numSlots, window) f32
  const limits = createBuffer(device, 'head limits', g.numLayers * stride * 4); // (layers, 64) u32
  const counts = createBuffer(device, 'head counts', g.numLayers * stride * 4); // (layers, 64) u32
  // (layers, victimStride) u32: layer l's slice is (kvHeads, cap), each head's victims in order, NOT_FULL after the last;
  // model: (heads, 2) u32 pairs (layer * kvHeads + head, logical slot) in eviction order, NOT_FULL after the last.
  const victims = createBuffer(device, 'head victims', modelWide ? heads * 2 * 4 : g.numLayers * victimStride * 4);
  const selectParams = createBuffer(device, 'select params', 16, UNIFORM); // {protect_below, t, burst, evict}
  const order = createBuffer(device, 'model order', modelWide ? slots * 4 : 16); // (numSlots) u32 select-model's scratch
  const lambda = params.lambda ?? CRYSTAL_DEFAULTS.lambda;
  const p = params.p ?? CRYSTAL_DEFAULTS.p;
  const slice = (buffer: GPUBuffer, l: number, width = stride, size = g.numKvHeads) => ({ buffer, offset: l * width * 4, size: size * 4 });
  const common = (l: number) => ({
    pageSize: g.pageSize,
    maxPages: g.maxPagesPerHead,
    kvHeads: g.numKvHeads,
    slotPos: kv.slotPos,
    blockTable: kv.tableBinding(l),
    headSlots: kv.headSlotsBinding(l),
    score,
    stamp,
  });
  const updates = Array.from({ length: g.numLayers }, (_, l) =>
    rules.score
      ? [scoreUpdate(gpu, { ...common(l), policy: rules.score, lambda, p, window, heads: numHeads, step, probs, history })]
      : [],
  );
  const scorers = Array.from({ length: g.numLayers }, (_, l) =>
    rules.pooled
      ? [
          policyScore(gpu, {
            ...common(l),
            rule: rules.pooled,
            window,
            pool: params.pool ?? (rules.pooled === 'r-kv' ? RKV_DEFAULTS.pool : SNAPKV_DEFAULTS.pool),
            lambda: params.lambda,
            threshold: params.threshold,
            headDim: g.headDim,
            history,
            kPool: kv.kPool,
            kvF16: kv.f16,
            limits: slice(limits, l),
            counts: slice(counts, l),
          }),
        ]
      : [],
  );
  assert(!policy.needsValueNorm || values, `${policyId} needs the step's values and W_O for its value norm`);
  const valueNorms = Array.from({ length: g.numLayers }, (_, l) =>
    policy.needsValueNorm && values
      ? [
          valueNorm(gpu, {
            hidden: values.hidden,
            heads: numHeads,
            kvHeads: g.numKvHeads,
            headDim: g.headDim,
            step,
            v: values.v,
            o: values.o[l],
            slotMap: kv.slotMapBinding(l),
            stamp,
          }),
        ]
      : [],
  );
  const model = modelWide
    ? selectModel(gpu, {
        ...kv.modelTables(),
        sinks: policy.sinks,
        recent: policy.recent,
        window,
        pool: params.pool ?? LAPROX_DEFAULTS.pool,
        cap: heads,
        params: selectParams,
        history,
        stamp,
        score,
        victims,
        order,
      })
    : null;
  const selects = Array.from({ length: modelWide ? 0 : g.numLayers }, (_, l) =>
    selectVictim(gpu, {
      ...common(l),
      rule: rules.victim as VictimRule,
      lambda,
      sinks: policy.sinks,
      recent: policy.recent,
      params: selectParams,
      limits: slice(limits, l),
      counts: slice(counts, l),
      cap,
      nearTie: policy.nearTie,
      victims: slice(victims, l, victimStride, g.numKvHeads * cap),
    }),
  );
  /** Layer l's choice; `rescore` recomputes pooled scores first (they move as neighbours go). select-model follows the last layer. */
  const choice = (l: number, rescore: boolean): Dispatch[] =>
    model ? (l === g.numLayers - 1 ? [model] : []) : [...(rescore ? scorers[l] : []), selects[l]];
  const choose = (rescore: boolean) => Array.from({ length: g.numLayers }, (_, l) => choice(l, rescore)).flat();
  const rebalance = policy.rebalance
    ? createGpuRebalance(gpu, kv, { ...policy, rebalance: policy.rebalance }, spec, { params: selectParams, score, stamp }, stride)
    : null;
  const headLimits = new Uint32Array(g.numLayers * stride).fill(0x7fffffff);
  let promptLength = 0;
  let pending: Uint32Array | null = null;
  const decisions: Eviction[] = [];

  function writeCounts(limitBonus: number) {
    const c = new Uint32Array(g.numLayers * stride);
    const lim = new Uint32Array(g.numLayers * stride);
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        c[l * stride + h] = kv.layout.count[l * g.numKvHeads + h];
        lim[l * stride + h] = Math.min(0x7fffffff, headLimits[l * stride + h] + limitBonus);
      }
    }
    device.queue.writeBuffer(counts, 0, c);
    device.queue.writeBuffer(limits, 0, lim);
  }

  /**
   * crystal, every R steps (evictor.ts makeRoom): the victims chosen last step were for the old
   * limits and are dropped; the loads are read at `position`, the budgets re-divided, every head
   * cut to room for one more (rounds of one victim per full head, like the prompt cut), and the
   * heads that shrank compacted.
   */
  async function rebalanceAt(position: number): Promise<void> {
    pending = null;
    await rebalance!.divide(position, promptLength, headLimits);
    for (;;) {
      writeCounts(0);
      writeParams(position);
      await runDispatches(gpu, selects, 1);
      if (apply(new Uint32Array(await readBuffer(device, victims)), position, true) === 0) break;
    }
    await rebalance!.compact(headLimits);
  }

  /** The prompt cut drops exactly the excess; decoding makes room for one more per head (r-kv: a burst more). */
  function writeParams(nextPosition: number, cut = false) {
    let evict = 0; // model: entries the whole cache drops (the evictor's shrinkToLimits)
    const limit = unstrideHeads(headLimits, g.numLayers, g.numKvHeads, stride);
    for (let i = 0; i < heads; i++) evict += kv.layout.count[i] - limit[i];
    evict = modelWide ? Math.max(0, evict + (cut ? 0 : heads)) : 0;
    const t = [spec.mode === 'think' ? promptLength : 0, nextPosition, cut ? 0 : burst, evict];
    device.queue.writeBuffer(selectParams, 0, new Uint32Array(t));
  }

  /** Frees every victim slot; returns how many entries went. */
  function apply(v: Uint32Array, at: number, invalidateOnGpu: boolean): number {
    let evicted = 0;
    // In decode the next token overwrites a freed slot, if only one per head; else it must be marked empty.
    const drop = (l: number, h: number, logical: number) => {
      const slot = physicalSlot(kv.layout, l, h, logical);
      decisions.push({ at, layer: l, kvHead: h, position: kv.layout.slotPos[slot] });
      evictSlot(kv.layout, l, h, logical);
      if (invalidateOnGpu) device.queue.writeBuffer(kv.slotPos, slot * 4, new Int32Array([-1]));
      evicted++;
    };
    if (modelWide) {
      for (let k = 0; k < heads && v[2 * k] !== NOT_FULL; k++) {
        assert(v[2 * k] !== NO_CANDIDATE, 'the model cache is full but every entry is protected');
        drop(Math.floor(v[2 * k] / g.numKvHeads), v[2 * k] % g.numKvHeads, v[2 * k + 1]);
      }
      return evicted;
    }
    for (let l = 0; l < g.numLayers; l++) {
      let layerPosition = -1; // tova: the position every head of the layer drops
      for (let h = 0; h < g.numKvHeads; h++) {
        for (let j = 0; j < cap; j++) {
          const logical = v[l * victimStride + h * cap + j];
          if (logical === NOT_FULL) break;
          assert(logical !== NO_CANDIDATE, `head (${l}, ${h}) is full but every entry is protected`);
          if (rules.victim === 'layer') {
            const position = kv.layout.slotPos[physicalSlot(kv.layout, l, h, logical)];
            if (h === 0) layerPosition = position;
            assert(position === layerPosition, `TOVA: head (${l}, ${h}) drops position ${position}, head 0 ${layerPosition}`);
          }
          drop(l, h, logical);
        }
      }
    }
    return evicted;
  }

  return {
    dispatches: (l) => [...updates[l], ...valueNorms[l], ...choice(l, true)],
    victims,
    makeRoom(position) {
      if (rebalance?.due(position, promptLength, headLimits)) return rebalanceAt(position);
      if (pending) apply(pending, position, cap > 1 || modelWide); // holes the next token does not fill
      pending = null;
    },
    upload(nextPosition) {
      writeCounts(0);
      writeParams(nextPosition);
    },
    setPending(v) {
      pending = v;
    },
    async finishPrefill(length, run) {
      promptLength = length;
      for (let l = 0; l < g.numLayers; l++) {
        for (let h = 0; h < g.numKvHeads; h++) headLimits[l * stride + h] = spec.mode === 'think' ? length + spec.budget : spec.budget;
      }
      // Cut: "full" means over the limit (limit + 1 held), one victim per head per round, each
      // choice re-scored (the evictor's evictFromHead) unless the policy takes the lowest of one
      // scoring (bursts: evictLowest), a cap at a time.
      for (let round = 0; ; round++) {
        writeCounts(1);
        writeParams(length, true);
        if (apply(await run(choose(round === 0 || !policy.burst)), length, true) === 0) break;
      }
      await rebalance?.compact(headLimits); // moving budgets: the prompt's pages past the budget
      // Victims for the first decode token: the usual "no room for one more" test.
      writeCounts(0);
      writeParams(length);
      pending = await run(choose(true));
    },
    decisions,
    rebalances: rebalance?.rebalances ?? [],
    headLimits: () => unstrideHeads(headLimits, g.numLayers, g.numKvHeads, stride),
    destroy() {
      for (const b of [score, stamp, history, limits, counts, victims, selectParams, order]) b.destroy();
      rebalance?.destroy();
    },
  };
}
