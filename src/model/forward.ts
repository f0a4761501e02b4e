/**
 * The GPU forward pass as a list of dispatches, built once per model (llama2.c's forward(),
 * unrolled into kernels). Per step the engine writes the step uniform and KV tables, then
 * encodes this list into one compute pass.
 *
 *   embed → L × [rmsnorm → qkv gemv (+bias) → rope-append (q/k rmsnorm, rope, kv-append)
 *                → paged-attention (+ per-slot probabilities; decode: split + reduce) → o-proj (+= residual)
 *                → rmsnorm → gate_up gemv with silu·mul → down (+= residual)] → rmsnorm → lm_head → sample
 * A step carrying the answer-first probe's rows after its token (policies/probe.ts) runs them in
 * the same tile: their K/V go to scratch slots, paged-attention lets them read their own block,
 * probe-fold (the plan's afterAttention) folds their attention, and probeHead reads every row.
 * That is 9 dispatches per layer for a decode step (8 for prefill), plus the policy's: on a GPU a
 * step is bound by its dispatch count (docs/speed.md), so everything that can share one does.
 */
import { createBuffer, UNIFORM } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { attentionPartialsBytes, defaultSplit, pagedAttentionDispatches, type AttentionOptions } from '../kernels/paged-attention.ts';
import { rmsnorm } from '../kernels/rmsnorm.ts';
import { ropeAppend } from '../kernels/rope-append.ts';
import { rowArgmax } from '../kernels/row-argmax.ts';
import { sample } from '../kernels/sample.ts';
import type { KvCache } from '../kv/kv-cache.ts';
import type { ModelConfig } from './config.ts';
import type { GpuWeights } from './gpu-weights.ts';
import { embedDispatches, linearDispatches } from './linear-dispatch.ts';

export interface Activations {
  tokens: GPUBuffer; // (T) u32
  hidden: GPUBuffer; // (T, H) residual stream
  normed: GPUBuffer; // (T, H)
  qkv: GPUBuffer; // (T, heads + 2 * kvHeads, headDim) the fused projection: q, k, v heads
  q: GPUBuffer; // (T, heads, headDim) after q-norm (qwen3) and RoPE
  attn: GPUBuffer; // (T, heads, headDim)
  probs: GPUBuffer; // (T, heads, maxPagesPerHead * pageSize) attention probability per logical slot
  attnPartials: GPUBuffer; // (heads, splits, 4 + headDim) split-K decode attention's (m, l, 0, 0), o per split (all layers in turn)
  act: GPUBuffer; // (T, I) silu(gate) * up
  logitsLast: GPUBuffer; // (1, V)
  logitsAll: GPUBuffer; // (T, V)
  step: GPUBuffer; // uniform Step
  sampleParams: GPUBuffer; // uniform {temperature, top_p, u, _}
  token: GPUBuffer; // (1) u32, the sampled token
  probeTokens: GPUBuffer; // (T) u32 the greedy token after each row: the answer-first probe's predictions
}

/**
 * Bytes of each activation buffer for steps of up to T tokens (createActivations makes exactly
 * these); `split`: the attention split buildForward will be given (default defaultSplit()).
 */
export function activationSizes(c: ModelConfig, T: number, maxSlotsPerHead: number, split = defaultSplit(c.headDim, maxSlotsPerHead)): Record<keyof Activations, number> {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const f32 = (n: number) => n * 4;
  return {
    tokens: f32(T),
    hidden: f32(T * c.hiddenSize),
    normed: f32(T * c.hiddenSize),
    qkv: f32(T * (qDim + 2 * kvDim)),
    q: f32(T * qDim),
    attn: f32(T * qDim),
    probs: f32(T * c.numHeads * maxSlotsPerHead),
    attnPartials: attentionPartialsBytes(c.numHeads, c.headDim, maxSlotsPerHead, split),
    act: f32(T * c.intermediateSize),
    logitsLast: f32(c.vocabSize),
    logitsAll: f32(T * c.vocabSize),
    step: 16,
    sampleParams: 16,
    token: f32(1),
    probeTokens: f32(T),
  };
}

const UNIFORM_BUFFERS: ReadonlySet<keyof Activations> = new Set(['step', 'sampleParams']);

export function createActivations(device: GPUDevice, c: ModelConfig, T: number, maxSlotsPerHead: number, split?: number): Activations {
  const sizes = activationSizes(c, T, maxSlotsPerHead, split);
  const out = {} as Record<keyof Activations, GPUBuffer>;
  for (const [name, bytes] of Object.entries(sizes) as [keyof Activations, number][]) {
    out[name] = UNIFORM_BUFFERS.has(name) ? createBuffer(device, name, bytes, UNIFORM) : createBuffer(device, name, bytes);
  }
  return out;
}

export interface ForwardPlan {
  /** embed and every layer: fills the KV cache and leaves the final hidden state. */
  body: Dispatch[];
  /** Index in body of each layer's last attention dispatch (probs are final after it): a probe of layer l copies its probs right after it. */
  attention: number[];
  /** final norm, lm_head on the last row, sample. */
  head: Dispatch[];
  /** final norm and lm_head on every row (tests compare every position's logits). */
  allRows: Dispatch[];
  /**
   * A step with the answer-first probe's rows (step.wgsl): final norm and lm_head on every row,
   * the real token sampled from row 0, and every row's greedy token (the probe's predictions).
   */
  probeHead: Dispatch[];
}

export interface RopeBuffers {
  cos: GPUBuffer; // (contextLength, headDim / 2)
  sin: GPUBuffer; // (contextLength, headDim / 2)
}

export function buildForward(
  gpu: Gpu,
  c: ModelConfig,
  w: GpuWeights,
  a: Activations,
  kv: KvCache,
  { cos, sin }: RopeBuffers,
  /** Dispatches run right after a layer's attention (the eviction policy's score update and victim choice). */
  afterAttention: (layer: number) => Dispatch[] = () => [],
  /** The most bytes one storage binding may span: larger weights are computed in row ranges. */
  maxBindingBytes: number = gpu.device.limits.maxStorageBufferBindingSize,
  /** The attention's split and subgroup variant (default: defaultSplit(), the device's subgroups); a split needs activations made for it. */
  attentionOptions: AttentionOptions = {},
): ForwardPlan {
  const g = kv.geometry;
  const H = c.hiddenSize;
  const eps = c.rmsNormEps;
  const linear = (weight: GpuWeights['lmHead'], args: Parameters<typeof linearDispatches>[2], label: string) =>
    linearDispatches(gpu, weight, args, maxBindingBytes, label);
  const body: Dispatch[] = embedDispatches(gpu, w.embed, a.tokens, a.hidden, maxBindingBytes);
  const attention: number[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const L = w.layers[l];
    body.push(
      rmsnorm(gpu, { dim: H, eps, rowsPerToken: 1, x: a.hidden, weight: L.inputNorm, out: a.normed }),
      ...linear(L.qkv, { x: a.normed, out: a.qkv, step: a.step }, `layer ${l} qkv_proj`),
      ropeAppend(gpu, {
        heads: c.numHeads,
        kvHeads: c.numKvHeads,
        headDim: c.headDim,
        step: a.step,
        qkv: a.qkv,
        qkNorm: c.qkNorm ? { q: L.qNorm!, k: L.kNorm!, eps } : undefined,
        cos,
        sin,
        q: a.q,
        slotMap: kv.slotMapBinding(l),
        kPool: kv.kPool,
        vPool: kv.vPool,
        kvF16: kv.f16,
        slotPos: kv.slotPos,
      }),
    );
    // Decode steps take the split-K path when the cache is long enough (defaultSplit), prefill tiles the single-workgroup kernel.
    const attend = pagedAttentionDispatches(gpu, {
      ...attentionOptions,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      pageSize: g.pageSize,
      maxPages: g.maxPagesPerHead,
      scale: 1 / Math.sqrt(c.headDim),
      step: a.step,
      q: a.q,
      kPool: kv.kPool,
      vPool: kv.vPool,
      kvF16: kv.f16,
      slotPos: kv.slotPos,
      blockTable: kv.tableBinding(l),
      headSlots: kv.headSlotsBinding(l),
      out: a.attn,
      probs: a.probs,
      partials: a.attnPartials,
      slotMap: kv.slotMapBinding(l), // where a probe row's own block's keys sit
    });
    attention.push(body.length + attend.length - 1);
    body.push(
      ...attend,
      ...afterAttention(l),
      ...linear(L.o, { x: a.attn, out: a.hidden, step: a.step, accumulate: true }, `layer ${l} o_proj`),
      rmsnorm(gpu, { dim: H, eps, rowsPerToken: 1, x: a.hidden, weight: L.postNorm, out: a.normed }),
      ...linear(L.gateUp, { x: a.normed, out: a.act, step: a.step, gated: true }, `layer ${l} gate_up_proj`),
      ...linear(L.down, { x: a.act, out: a.hidden, step: a.step, accumulate: true }, `layer ${l} down_proj`),
    );
  }
  const finalNorm = rmsnorm(gpu, { dim: H, eps, rowsPerToken: 1, x: a.hidden, weight: w.finalNorm, out: a.normed });
  const lmHeadAll = linear(w.lmHead, { x: a.normed, out: a.logitsAll, step: a.step }, 'lm_head');
  return {
    body,
    attention,
    head: [
      finalNorm,
      ...linear(w.lmHead, { x: a.normed, out: a.logitsLast, step: a.step, onlyLastRow: true }, 'lm_head'),
      sample(gpu, { vocab: c.vocabSize, params: a.sampleParams, logits: a.logitsLast, token: a.token }),
    ],
    allRows: [finalNorm, ...lmHeadAll],
    probeHead: [
      finalNorm,
      ...lmHeadAll,
      sample(gpu, { vocab: c.vocabSize, params: a.sampleParams, logits: { buffer: a.logitsAll, offset: 0, size: c.vocabSize * 4 }, token: a.token }),
      rowArgmax(gpu, { vocab: c.vocabSize, step: a.step, logits: a.logitsAll, tokens: a.probeTokens }),
    ],
  };
}
