/**
 * The GPU engine's victim chooser (eviction-driver.ts VictimChooser), built from the
 * policy's GPU rule (policy.gpu): after each layer's attention, score-update folds the step's
 * attention rows into the cache's policy state, value-norm writes laprox's new entries' norms,
 * policy-score recomputes scores that depend on the head's other entries, and select-victim
 * names each full head's victims (select-model after the last layer, for a model-wide policy).
 * A decode step thus chooses the next step's victims inside its own command buffer (inStep: the
 * driver asks before the step, and hands over the step's read-back after it). Any other round
 * (the prompt cut, crystal's re-division) dispatches the choice alone and reads it back through
 * a reused staging buffer. head-load counts crystal's loads.
 */
import { assert } from '../assert.ts';
import { createBuffer, UNIFORM } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { encodeDispatch, type Dispatch } from '../gpu/kernel.ts';
import { Readback } from '../gpu/readback.ts';
import { headLoad } from '../kernels/head-load.ts';
import { policyScore } from '../kernels/policy-score.ts';
import { scoreUpdate } from '../kernels/score-update.ts';
import { selectModel } from '../kernels/select-model.ts';
import { NO_CANDIDATE, NOT_FULL } from '../kernels/eviction-rules.ts';
import { selectVictim } from '../kernels/select-victim.ts';
import { valueNorm } from '../kernels/value-norm.ts';
import type { BudgetSpec } from '../kv/budget.ts';
import type { KvCache } from '../kv/kv-cache.ts';
import { BINDING_ALIGN_U32, roundUp } from '../kv/kv-layout.ts';
import { rankScratchWords } from '../kernels/position-rank.ts';
import type { Victim, VictimChooser, VictimRound } from './eviction-driver.ts';
import type { EvictionPolicy, GpuRule } from './policy.ts';

export interface GpuChooser extends VictimChooser {
  /** Dispatches that follow layer `l`'s attention in every step. */
  dispatches(layer: number): Dispatch[];
  /** What a step copies into its read-back: the victims it chose, `bytes` of them. */
  victims: { buffer: GPUBuffer; bytes: number };
  destroy(): void;
}

export function createGpuChooser(
  gpu: Gpu,
  kv: KvCache,
  policy: EvictionPolicy,
  rules: GpuRule,
  spec: BudgetSpec,
  numHeads: number,
  /** Positions the context holds (every entry's position is below it): the rank scratch's size. */
  positions: number,
  step: GPUBuffer, // uniform Step {rows, pos_start, _, _}
  probs: GPUBuffer, // (rows, heads, maxSlots) f32 the layer's attention probabilities
  /** laprox's value norm: the step's fused projection (T, heads + 2 kvHeads, headDim), v heads last, and each layer's W_O (hidden, heads * headDim) f32. */
  values?: { qkv: GPUBuffer; o: readonly GPUBuffer[]; hidden: number },
): GpuChooser {
  const device = gpu.device;
  const g = kv.geometry;
  const heads = g.numLayers * g.numKvHeads;
  const stride = BINDING_ALIGN_U32; // u32s between layers in limits/counts
  const window = Math.max(1, policy.historyWindow);
  const victim = rules.victim;
  assert(victim !== undefined, 'a chooser is only made for a policy that evicts');
  const modelWide = policy.granularity === 'model';
  // Extra victims a full head drops beyond its excess while decoding (r-kv's burst), and victims per head and step.
  const burst = policy.burst ? Math.floor(policy.burst * spec.budget) : 0;
  const cap = 1 + burst;
  const victimStride = roundUp(g.numKvHeads * cap, BINDING_ALIGN_U32); // u32s between layers in victims
  const { score, stamp, history } = kv.state;
  const limits = createBuffer(device, 'head limits', g.numLayers * stride * 4); // (layers, 64) u32
  const counts = createBuffer(device, 'head counts', g.numLayers * stride * 4); // (layers, 64) u32
  // (layers, victimStride) u32: layer l's slice is (kvHeads, cap), each head's victims in order, NOT_FULL after the last;
  // model: (heads, 2) u32 pairs (layer * kvHeads + head, logical slot) in eviction order, NOT_FULL after the last.
  const victimBytes = modelWide ? heads * 2 * 4 : g.numLayers * victimStride * 4;
  const victims = createBuffer(device, 'head victims', victimBytes);
  const selectParams = createBuffer(device, 'select params', 16, UNIFORM); // {protect_below, t, burst, evict}
  // Pooling ranks each head's entries by position (policy-score, select-model): (numSlots) u32 lists by rank and the rank scratch,
  // a region per KV head of a layer for policy-score, one region for select-model (one head at a time).
  const ranks = modelWide || rules.rescore !== undefined;
  const order = createBuffer(device, 'rank order', ranks ? g.numPages * g.pageSize * 4 : 16);
  const rankScratch = createBuffer(device, 'rank scratch', ranks ? (modelWide ? 1 : g.numKvHeads) * rankScratchWords(positions) * 4 : 16);
  const loadsBuffer = createBuffer(device, 'head loads', heads * 4); // (layers, kvHeads) f32
  const victimsBack = new Readback(device, 'victims read-back', victimBytes);
  const loadsBack = new Readback(device, 'loads read-back', heads * 4);
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
  const layers = Array.from({ length: g.numLayers }, (_, l) => l);
  const updates = layers.map((l) =>
    rules.update ? [scoreUpdate(gpu, { ...common(l), rule: rules.update, window, heads: numHeads, step, probs, history })] : [],
  );
  const rescores = layers.map((l) =>
    rules.rescore
      ? [
          policyScore(gpu, {
            ...common(l),
            rule: rules.rescore,
            window,
            headDim: g.headDim,
            history,
            kPool: kv.kPool,
            kvF16: kv.f16,
            limits: slice(limits, l),
            counts: slice(counts, l),
            positions,
            rankScratch,
            order,
          }),
        ]
      : [],
  );
  assert(!policy.needsValueNorm || values, `${policy.id} needs the step's values and W_O for its value norm`);
  const vLayout = { rowWidth: (numHeads + 2 * g.numKvHeads) * g.headDim, firstColumn: (numHeads + g.numKvHeads) * g.headDim }; // v heads last in qkv
  const valueNorms = layers.map((l) =>
    policy.needsValueNorm && values
      ? [valueNorm(gpu, { hidden: values.hidden, heads: numHeads, kvHeads: g.numKvHeads, headDim: g.headDim, step, v: values.qkv, vLayout, o: values.o[l], slotMap: kv.slotMapBinding(l), stamp })]
      : [],
  );
  const model = modelWide
    ? selectModel(gpu, { ...kv.modelTables(), rule: victim, sinks: policy.sinks, recent: policy.recent, window, cap: heads, params: selectParams, history, stamp, score, victims, order, positions, rankScratch })
    : null;
  const selects = modelWide
    ? []
    : layers.map((l) =>
        selectVictim(gpu, {
          ...common(l),
          rule: victim,
          sinks: policy.sinks,
          recent: policy.recent,
          params: selectParams,
          limits: slice(limits, l),
          counts: slice(counts, l),
          cap,
          nearTie: policy.nearTie,
          victims: slice(victims, l, victimStride, g.numKvHeads * cap),
          probe: policy.probe ? kv.state.probe : undefined, // the probe rule's scores (probe-fold writes them)
        }),
      );
  const load = policy.rebalance
    ? headLoad(gpu, { ...kv.modelTables(), window: policy.rebalance.period, params: selectParams, stamp, loads: loadsBuffer })
    : null;
  /** Layer l's choice; `rescore` recomputes pooled scores first (they move as neighbours go). select-model follows the last layer. */
  const choice = (l: number, rescore: boolean): Dispatch[] =>
    model ? (l === g.numLayers - 1 ? [model] : []) : [...(rescore ? rescores[l] : []), selects[l]];

  // Host copies of what is uploaded, (layers, stride) u32, reused every step.
  const countsHost = new Uint32Array(g.numLayers * stride);
  const limitsHost = new Uint32Array(g.numLayers * stride);
  const paramsHost = new Uint32Array(4);

  /** Counts, limits and {protect_below, t, burst, evict} for `round`. */
  function upload(r: VictimRound): void {
    const count = kv.layout.count;
    // select-victim treats a head as full when it holds its limit: room for one more (decode);
    // the prompt cut asks for the limit itself, so a head is "full" when it holds one more.
    const bonus = 1 - r.extra;
    let held = 0;
    let allowed = 0;
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        const i = l * g.numKvHeads + h;
        countsHost[l * stride + h] = count[i];
        limitsHost[l * stride + h] = Math.min(0x7fffffff, r.limits[i] + bonus);
        held += count[i];
        allowed += r.limits[i];
      }
    }
    // model: the entries the whole cache drops (the driver's `over`).
    const evict = modelWide ? Math.max(0, held - allowed + r.extra * heads) : 0;
    paramsHost.set([r.protectBelow, r.at, r.extra > 0 ? burst : 0, evict]);
    const q = device.queue;
    q.writeBuffer(counts, 0, countsHost);
    q.writeBuffer(limits, 0, limitsHost);
    q.writeBuffer(selectParams, 0, paramsHost);
  }

  /** The victims buffer as the driver's list. */
  function decode(v: Uint32Array): Victim[] {
    const out: Victim[] = [];
    if (modelWide) {
      for (let k = 0; k < heads && v[2 * k] !== NOT_FULL; k++) {
        assert(v[2 * k] !== NO_CANDIDATE, 'the model cache is full but every entry is protected');
        out.push({ layer: Math.floor(v[2 * k] / g.numKvHeads), kvHead: v[2 * k] % g.numKvHeads, logical: v[2 * k + 1] });
      }
      return out;
    }
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        for (let j = 0; j < cap; j++) {
          const logical = v[l * victimStride + h * cap + j];
          if (logical === NOT_FULL) break;
          assert(logical !== NO_CANDIDATE, `head (${l}, ${h}) is full but every entry is protected`);
          out.push({ layer: l, kvHead: h, logical });
        }
      }
    }
    return out;
  }

  /** Runs `dispatches` and copies `source` into `back` in one command buffer; returns what came back. */
  async function run(dispatches: readonly Dispatch[], source: GPUBuffer, back: Readback): Promise<ArrayBuffer> {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const d of dispatches) encodeDispatch(pass, d, 1);
    pass.end();
    back.copy(encoder, source, 0, back.bytes);
    device.queue.submit([encoder.finish()]);
    return back.read();
  }

  return {
    dispatches: (l) => [...updates[l], ...valueNorms[l], ...choice(l, true)],
    victims: { buffer: victims, bytes: victimBytes },
    // The step's dispatches choose for the round uploaded here (after the step's tokens were appended).
    inStep: { ask: upload, answer: decode },
    async choose(r) {
      kv.flush(); // the entries freed by the last round, before the kernels look again
      upload(r);
      // A burst's later rounds continue one scoring (the CPU's k lowest); otherwise each round re-scores.
      const dispatches = layers.flatMap((l) => choice(l, r.first || !policy.burst));
      return decode(new Uint32Array(await run(dispatches, victims, victimsBack)));
    },
    async loads(at, protectBelow, since) {
      assert(load !== null && since === at - policy.rebalance!.period, 'head loads are counted over the policy re-division period');
      kv.flush();
      paramsHost.set([protectBelow, at, 0, 0]);
      device.queue.writeBuffer(selectParams, 0, paramsHost);
      return Float64Array.from(new Float32Array(await run([load], loadsBuffer, loadsBack)));
    },
    destroy() {
      for (const b of [limits, counts, victims, selectParams, order, rankScratch, loadsBuffer]) b.destroy();
      victimsBack.destroy();
      loadsBack.destroy();
    },
  };
}
