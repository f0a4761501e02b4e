/**
 * The GPU engine: uploads the model, owns the paged KV cache and activations, and runs one
 * command buffer per forward call with one read-back into a reused staging buffer: the sampled
 * token, the victims the step chose for the next one, and the watched layers' attention
 * (logits only when a test asks for them). Eviction is the shared driver
 * (policies/eviction-driver.ts) over the GPU chooser (policies/gpu-chooser.ts): the backend calls
 * the driver once before a step's submit and once after its read-back, and wires the chooser's
 * dispatches into the forward plan and its victims into the read-back.
 * A policy with the answer-first probe (policies/probe.ts) gets its probe rows in the step's own
 * tile after the real token: probe-fold after each layer's attention (before the chooser picks
 * the next victims), and the rows' greedy predictions in the same read-back.
 */
import { PolicyBackendError } from '../errors.ts';
import { COPY, createBuffer, createBufferFrom, readBuffer } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { encodeDispatch, type Dispatch } from '../gpu/kernel.ts';
import { Readback } from '../gpu/readback.ts';
import { timeDispatches, type KernelTime } from '../gpu/timing.ts';
import { writeStep } from '../gpu/step-params.ts';
import { probeFold } from '../kernels/probe-fold.ts';
import { evictionStateOf, KvCache } from '../kv/kv-cache.ts';
import { buildForward, createActivations, type ForwardPlan } from '../model/forward.ts';
import { uploadWeights } from '../model/gpu-weights.ts';
import { linearValues } from '../model/linear.ts';
import { computesIn16Bit } from '../model/weights.ts';
import type { LoadedModel } from '../model/load-model.ts';
import { ropeTablesFor } from '../model/rope-frequencies.ts';
import { checkDeviceLimits } from './device-limits.ts';
import type { WatchedAttention } from './types.ts';
import { watchedAttention } from '../kv/watched-attention.ts';
import { dropFrom } from '../kv/rewind.ts';
import { createEvictionDriver, type EvictionDriver } from '../policies/eviction-driver.ts';
import { createGpuChooser, type GpuChooser } from '../policies/gpu-chooser.ts';
import type { ProbeRequest, ProbeResult } from '../policies/probe.ts';
import type { EvictionPolicy, GpuRule } from '../policies/policy.ts';
import { createPolicy } from '../policies/registry.ts';
import { backendSizes, continuationGeometry, sequenceGeometry, type BackendOptions, type ForwardBackend, type ForwardResult, type LogitsRequest, type SampleControl } from '../model/forward-backend.ts';
import { checkBudget, evictionSpec, type CacheConfig } from '../kv/budget.ts';

/** What one forward step of the current sequence's plan submits (bench/step-cost.ts). */
export interface StepShape {
  /** Dispatches with work at this many rows (the policy's included). */
  dispatches: number;
  /** Compute passes: one, and one more after each watched layer's copy. */
  passes: number;
  /** Bytes of one stored K or V value (f16 pools: 2). */
  kvElementBytes: number;
}

export interface GpuBackend extends ForwardBackend {
  kind: 'gpu';
  /** The shape of a step of `rows` rows (1: a decode step; with `probe`, the token and its probe rows) under the current sequence's plan. */
  stepShape(rows?: number, probe?: boolean): StepShape;
  /** Runs one step with a timestamp around every kernel (benchmarks): appends like forward(). */
  profile(tokens: readonly number[], posStart: number): Promise<KernelTime[]>;
  weightBytes: number;
}

/** The policy's GPU rule; PolicyBackendError when it runs on the CPU reference only. */
function gpuRuleOf(policy: EvictionPolicy): GpuRule {
  if ('cpuOnly' in policy.gpu) throw new PolicyBackendError(policy.id, 'GPU engine', policy.gpu.cpuOnly);
  return policy.gpu;
}

export async function createGpuBackend(gpu: Gpu, model: LoadedModel, options: BackendOptions = {}): Promise<GpuBackend> {
  const c = model.config;
  const device = gpu.device;
  const kvDtype = options.kvDtype ?? (computesIn16Bit(model.weights) ? 'f16' : 'f32');
  const { contextLength, maxStepTokens, geometry } = backendSizes(c, { ...options, kvDtype });
  checkDeviceLimits(device.limits, c, maxStepTokens, geometry); // before a byte is allocated
  const weights = await uploadWeights(device, model.weights);
  // The KV cache is allocated at reset, for the sequence's budget (the whole context without one).
  let kv: KvCache | null = null;
  let ready: Promise<void> = Promise.resolve(); // kv's allocation check
  const acts = createActivations(device, c, maxStepTokens, geometry.maxPagesPerHead * geometry.pageSize);
  const tables = ropeTablesFor(c, contextLength);
  const rope = { cos: createBufferFrom(device, 'ropeCos', tables.cos), sin: createBufferFrom(device, 'ropeSin', tables.sin) };
  let chooser: GpuChooser | null = null;
  let driver: EvictionDriver | null = null;
  let sequence: { policy: EvictionPolicy; cache: CacheConfig | undefined } | null = null; // the current sequence's cache settings
  let plan: ForwardPlan | null = null;
  let folds = new Set<Dispatch>(); // the plan's probe-fold dispatches: left out of a lookahead's bootstrap steps
  // The step's read-back: [token u32, pad to 16][victims][watched rows][probe predictions]; re-made only when its size changes.
  let readback: Readback | null = null;
  const TOKEN_BYTES = 16;
  const V = c.vocabSize;
  let watchLayers: number[] = [];
  let lastWatched: WatchedAttention[] = [];
  // (watched layers, heads, slots) f32: each watched layer's last probs row, copied out per step.
  const rowBytes = c.numHeads * geometry.maxPagesPerHead * geometry.pageSize * 4;
  let watchedProbs: GPUBuffer | null = null;
  // (watched layers, numSlots) f32: with a probing policy, the probe scores as each watched layer's query found them.
  let watchedProbe: GPUBuffer | null = null;

  // value-norm reads W_O as f32: a 16-bit or 4-bit model decodes it once, on the host from the
  // same bytes, the first time a policy needs it (laprox; (H, heads * headDim) f32 per layer).
  let oF32: GPUBuffer[] | null = null;
  function outputProjectionsF32(): GPUBuffer[] {
    oF32 ??= model.weights.layers.map((L, i) =>
      L.o.storage === 'f32' ? (weights.layers[i].o.data as GPUBuffer) : createBufferFrom(device, `layer${i}.o f32`, linearValues(L.o)),
    );
    return oF32;
  }

  function reset(cache?: CacheConfig, promptLength?: number): void {
    const spec = evictionSpec(cache); // null for the full cache, `full` included
    const policy = createPolicy(cache?.policy ?? 'full', cache?.params);
    // Everything that can refuse the request does so before the current sequence is touched.
    if (spec) gpuRuleOf(policy);
    if (spec) checkBudget(spec, policy);
    const next = sequenceGeometry(geometry, spec, promptLength, policy);
    const state = spec ? evictionStateOf(policy, maxStepTokens) : null;
    if (!kv || !kv.fits(next, state)) {
      kv?.destroy();
      ({ cache: kv, checked: ready } = KvCache.allocate(gpu, next, state));
    } else {
      kv.reset();
    }
    attach(policy, cache);
  }

  /** The chooser, driver, forward plan and read-back of a sequence over the current KV cache. */
  function attach(policy: EvictionPolicy, settings: CacheConfig | undefined): void {
    chooser?.destroy();
    chooser = null;
    const spec = evictionSpec(settings);
    if (spec) {
      const values = { qkv: acts.qkv, o: policy.needsValueNorm ? outputProjectionsF32() : [], hidden: c.hiddenSize }; // laprox's value norm
      chooser = createGpuChooser(gpu, kv!, policy, gpuRuleOf(policy), spec, c.numHeads, contextLength, acts.step, acts.probs, values);
    }
    driver = createEvictionDriver(policy, settings, kv!, chooser);
    sequence = { policy, cache: settings };
    const ch = chooser;
    // The probe's fold comes right after the layer's attention, before the chooser picks victims from the scores.
    const fold = spec && policy.probe ? probeFoldDispatches(policy.probe.decay) : [];
    folds = new Set(fold);
    const afterAttention = (l: number) => [...(fold.length ? [fold[l]] : []), ...(ch ? ch.dispatches(l) : [])];
    plan = buildForward(gpu, c, weights, acts, kv!, rope, afterAttention, options.maxBindingBytes);
    sizeWatchedProbe();
    sizeReadback();
  }

  /** The watched layers' probe-score copies, for a probing policy's sequence (the pool's slots vary with the budget). */
  function sizeWatchedProbe(): void {
    watchedProbe?.destroy();
    watchedProbe = folds.size > 0 && watchLayers.length > 0 && kv ? createBuffer(device, 'watched probe', watchLayers.length * kv.state.probe.size, COPY) : null;
  }

  function probeFoldDispatches(decay: number): Dispatch[] {
    const g = kv!.geometry;
    return Array.from({ length: c.numLayers }, (_, l) =>
      probeFold(gpu, {
        heads: c.numHeads,
        kvHeads: c.numKvHeads,
        pageSize: g.pageSize,
        maxPages: g.maxPagesPerHead,
        decay,
        step: acts.step,
        probs: acts.probs,
        slotPos: kv!.slotPos,
        blockTable: kv!.tableBinding(l),
        headSlots: kv!.headSlotsBinding(l),
        probe: kv!.state.probe,
      }),
    );
  }

  function resume(keep: number, promptLength: number): boolean {
    if (!kv || !sequence) return false;
    const next = continuationGeometry(kv.layout, geometry, evictionSpec(sequence.cache), sequence.policy, keep, promptLength);
    if (!next) return false;
    if (next.numPages > kv.geometry.numPages) {
      // A longer prompt than the budget's pool was sized for: the pool grows, its entries stay, and everything bound to it is rebuilt.
      ({ cache: kv, checked: ready } = kv.grownTo(next));
      dropFrom(kv, keep);
      attach(sequence.policy, sequence.cache);
      return true;
    }
    dropFrom(kv, keep); // the freed slots are marked on the GPU with the next step's tables
    driver = createEvictionDriver(sequence.policy, sequence.cache, kv, chooser); // a fresh prompt cut and decision log; the policy state stays
    return true;
  }

  /** The step's read-back, sized for the token, the chooser's victims and the watched rows. */
  function sizeReadback(): void {
    const bytes = TOKEN_BYTES + (chooser?.victims.bytes ?? 0) + (watchedProbs ? watchedProbs.size : 0) + (watchedProbe ? watchedProbe.size : 0) + (folds.size > 0 ? maxStepTokens * 4 : 0);
    if (readback?.bytes === bytes) return;
    readback?.destroy();
    readback = new Readback(device, 'step read-back', bytes);
  }

  /** The cache and plan of the current sequence (the full cache if reset was never called). */
  async function prepared(): Promise<{ kv: KvCache; plan: ForwardPlan; driver: EvictionDriver; readback: Readback }> {
    if (!kv || !plan) reset();
    await ready;
    return { kv: kv!, plan: plan!, driver: driver!, readback: readback! };
  }

  /**
   * One command buffer: `tokens` at posStart.., then, when `probe` is given, its answer block and
   * lookahead block (step.wgsl), folded into the probe scores unless `fold` is false (a
   * lookahead's bootstrap). Returns the sampled token and, with probe rows, every row's greedy token.
   */
  async function runStep(
    tokens: readonly number[],
    posStart: number,
    s: SampleControl,
    logits: LogitsRequest,
    probe?: { answer: readonly number[]; look: readonly number[]; fold: boolean },
  ): Promise<ForwardResult & { greedy?: Uint32Array }> {
    const real = tokens.length;
    const tile = probe ? [...tokens, ...probe.answer, ...probe.look] : tokens;
    const T = tile.length;
    const probing = probe !== undefined;
    const { kv, plan, driver, readback } = await prepared();
    if (T > maxStepTokens) throw new Error(`a step of ${T} rows (${real} tokens and their probe rows) exceeds the tile of ${maxStepTokens}`);
    await driver.beforeStep(posStart, real, T - real); // room, the step's slots (and the probe rows' scratch), and the next step's victims asked of this one
    const q = device.queue;
    q.writeBuffer(acts.tokens, 0, Uint32Array.from(tile));
    writeStep(device, acts.step, T, posStart, { realRows: real, answerRows: probe?.answer.length ?? 0 });
    q.writeBuffer(acts.sampleParams, 0, new Float32Array([s.temperature, s.topP, s.u, 0]));
    const encoder = device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    // Watched layers: each one's last real query row of probs (heads, slots) is copied out right after its attention.
    const watchAt = new Map(watchLayers.map((l, i) => [plan.attention[l], i]));
    plan.body.forEach((d, index) => {
      if (probe && !probe.fold && folds.has(d)) return;
      encodeDispatch(pass, d, T, probing);
      const at = watchAt.get(index);
      if (watchedProbs && at !== undefined && real > 0) {
        pass.end();
        encoder.copyBufferToBuffer(acts.probs, (real - 1) * rowBytes, watchedProbs, at * rowBytes, rowBytes);
        // Before the layer's probe-fold (next in the plan): the scores the step's query found.
        if (watchedProbe) encoder.copyBufferToBuffer(kv.state.probe, 0, watchedProbe, at * kv.state.probe.size, kv.state.probe.size);
        pass = encoder.beginComputePass();
      }
    });
    for (const d of probing ? plan.probeHead : plan.head) encodeDispatch(pass, d, T, probing);
    if (logits === 'all' && !probing) for (const d of plan.allRows) encodeDispatch(pass, d, T);
    pass.end();
    // One read-back: the token, the victims chosen for the next step, the watched rows, the probe's predictions.
    const victimBytes = chooser?.victims.bytes ?? 0;
    const watchedBytes = watchedProbs ? watchedProbs.size : 0;
    const probeAt = TOKEN_BYTES + victimBytes + watchedBytes;
    const greedyAt = probeAt + (watchedProbe ? watchedProbe.size : 0);
    readback.copy(encoder, acts.token, 0, 4);
    if (chooser) readback.copy(encoder, chooser.victims.buffer, TOKEN_BYTES, victimBytes);
    if (watchedProbs) readback.copy(encoder, watchedProbs, TOKEN_BYTES + victimBytes, watchedBytes);
    if (watchedProbe) readback.copy(encoder, watchedProbe, probeAt, watchedProbe.size);
    if (probing) readback.copy(encoder, acts.probeTokens, greedyAt, T * 4);
    q.submit([encoder.finish()]);
    const back = await readback.read();
    const token = new Uint32Array(back, 0, 1)[0];
    driver.afterStep(new Uint32Array(back, TOKEN_BYTES, victimBytes / 4));
    if (watchedProbs && real > 0) {
      const slots = rowBytes / 4 / c.numHeads;
      const rows = new Float32Array(back, TOKEN_BYTES + victimBytes, watchedBytes / 4);
      const scores = watchedProbe ? new Float32Array(back, probeAt, watchedProbe.size / 4) : null;
      const perLayer = kv.state.probe.size / 4;
      lastWatched = watchLayers.map((l, i) =>
        watchedAttention(kv.layout, l, c.numHeads, rows.subarray(i * c.numHeads * slots), slots, scores ? { bySlot: scores.subarray(i * perLayer, (i + 1) * perLayer), newFrom: posStart } : undefined),
      );
    }
    const greedy = probing ? new Uint32Array(back, greedyAt, T) : undefined;
    if (logits === 'none') return { token, greedy };
    // With probe rows, lm_head ran on every row: the real rows are the first of logitsAll.
    const source = logits === 'all' || probing ? acts.logitsAll : acts.logitsLast;
    const rows = logits === 'all' ? real : 1;
    const read = new Float32Array(await readBuffer(device, source, (probing ? real : rows) * V * 4));
    return { token, greedy, logits: probing && logits === 'last' ? read.slice((real - 1) * V) : read };
  }

  async function forward(tokens: readonly number[], posStart: number, s: SampleControl, logits: LogitsRequest = 'none', probeRows?: ProbeRequest): Promise<ForwardResult> {
    if (!probeRows) return runStep(tokens, posStart, s, logits);
    if (folds.size === 0) throw new Error('probe rows were given, but the sequence\'s policy runs no probe');
    const real = tokens.length;
    const A = probeRows.answer.length;
    const bootstrap = probeRows.bootstrapLook;
    const main = await runStep(tokens, posStart, s, logits, { answer: probeRows.answer, look: bootstrap > 0 ? [] : probeRows.look, fold: true });
    const rows = Array.from(main.greedy!);
    const probe: ProbeResult = { answer: rows.slice(real, real + A), look: rows.slice(real + A) };
    if (bootstrap > 0) {
      // The lookahead's first rows: greedy from the step's own prediction, each block read and
      // never folded (policies/probe.ts), then the whole block folded as a step of probe rows only.
      const at = posStart + real;
      const greedy = { temperature: 0, topP: 1, u: 0 };
      const look = [rows[real - 1]];
      while (look.length < bootstrap) {
        const block = await runStep([], at, greedy, 'none', { answer: [], look, fold: false });
        look.push(block.greedy![look.length - 1]);
      }
      probe.look = Array.from((await runStep([], at, greedy, 'none', { answer: [], look, fold: true })).greedy!);
    }
    return { token: main.token, logits: main.logits, probe };
  }

  async function profile(tokens: readonly number[], posStart: number): Promise<KernelTime[]> {
    const { plan, driver } = await prepared();
    await driver.beforeStep(posStart, tokens.length); // a step as forward() runs it
    device.queue.writeBuffer(acts.tokens, 0, Uint32Array.from(tokens));
    writeStep(device, acts.step, tokens.length, posStart);
    device.queue.writeBuffer(acts.sampleParams, 0, new Float32Array([0, 1, 0, 0]));
    return timeDispatches(gpu, [...plan.body, ...plan.head], tokens.length);
  }

  return {
    kind: 'gpu',
    profile,
    stepShape(rows = 1, probe = false) {
      if (!kv || !plan) reset();
      const steps = [...plan!.body, ...(probe ? plan!.probeHead : plan!.head)];
      return { dispatches: steps.filter((d) => d.grid(rows, probe).every((n) => n > 0)).length, passes: 1 + (watchedProbs ? watchLayers.length : 0), kvElementBytes: kv!.f16 ? 2 : 4 };
    },
    get kvBytes() {
      return kv?.kvBytes ?? 0;
    },
    weightBytes: weights.bytes,
    model,
    maxStepTokens,
    contextLength,
    adapter: gpu.adapterInfo,
    reset,
    resume,
    async finishPrefill(promptLength: number) {
      await (await prepared()).driver.afterPrefill(promptLength);
    },
    evictions: () => driver?.decisions ?? [],
    rebalances: () => driver?.rebalances ?? [],
    occupancy: () => kv?.layout.count.slice() ?? new Int32Array(c.numLayers * c.numKvHeads),
    limits: () => driver?.limits.map((n) => Math.min(n, contextLength)) ?? new Int32Array(c.numLayers * c.numKvHeads).fill(contextLength),
    watch(layers) {
      watchLayers = [...new Set(layers)].sort((a, b) => a - b);
      lastWatched = [];
      watchedProbs?.destroy();
      watchedProbs = watchLayers.length === 0 ? null : createBuffer(device, 'watched probs', watchLayers.length * rowBytes, COPY);
      sizeWatchedProbe();
      if (readback) sizeReadback();
    },
    watched: () => lastWatched,
    probe: () => sequence?.policy.probe,
    forward,
    dispose() {
      weights.destroy();
      oF32?.forEach((b, i) => b !== weights.layers[i].o.data && b.destroy());
      kv?.destroy();
      chooser?.destroy();
      readback?.destroy();
      for (const b of Object.values(acts)) b.destroy();
      rope.cos.destroy();
      rope.sin.destroy();
      watchedProbs?.destroy();
      watchedProbe?.destroy();
    },
  };
}
