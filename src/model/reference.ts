/**
 * The CPU reference engine: the same forward pass as the GPU engine, built from the kernels'
 * CPU references (f64 arithmetic over f32 weights) and the same paged-KV bookkeeping. It is the
 * oracle the GPU engine is tested against, and the fast path of the accuracy evaluation.
 */
import { backendSizes, continuationGeometry, sequenceGeometry, type BackendOptions, type ForwardBackend, type ForwardResult, type LogitsRequest, type SampleControl } from './forward-backend.ts';
import { evictionSpec, type CacheConfig } from '../kv/budget.ts';
import { watchedAttention } from '../kv/watched-attention.ts';
import type { WatchedAttention } from '../kv/watched-attention.ts';
import { createCpuPolicyRunner, type CpuPolicyRunner } from '../policies/cpu-chooser.ts';
import { createEvictionDriver, type EvictionDriver } from '../policies/eviction-driver.ts';
import type { EvictionPolicy } from '../policies/policy.ts';
import { createPolicy } from '../policies/registry.ts';
import { HostKvCache } from '../kv/host-kv-cache.ts';
import { pagedAttentionRef } from '../kernels/paged-attention.ref.ts';
import { rmsnormRef } from '../kernels/rmsnorm.ref.ts';
import { ropeAppendRef } from '../kernels/rope-append.ref.ts';
import { probeForwardRef } from './probe-forward.ts';
import type { ProbeRequest, ProbeResult } from '../policies/probe.ts';
import { sampleRef } from '../kernels/sample.ref.ts';
import { siluMulRef } from '../kernels/silu-mul.ref.ts';
import { kvBytes } from '../kv/kv-layout.ts';
import { dropFrom } from '../kv/rewind.ts';
import { linearRef, linearRow, linearValues } from './linear.ts';
import { computesIn16Bit } from './weights.ts';
import type { LoadedModel } from './load-model.ts';
import { ropeTablesFor } from './rope-frequencies.ts';
import type { MemoStep, PrefixMemo } from './prefix-memo.ts';

/** The current sequence's eviction, for tests that audit it. */
export interface ReferenceEviction {
  driver: EvictionDriver;
  runner: CpuPolicyRunner;
  cache: HostKvCache;
}

export interface ReferenceBackend extends ForwardBackend {
  /** Replays the shared beginning of sequences on one prompt from `memo` (evaluation); null: off. */
  useMemo(memo: PrefixMemo | null): void;
  /**
   * Research policies built from more than numbers (the oracle reads a recorded run): from the
   * next reset on, a config `provide` answers runs with its policy instead of the registry's.
   */
  providePolicies(provide: ((config: CacheConfig) => EvictionPolicy | undefined) | null): void;
  eviction(): ReferenceEviction;
}

export function createReferenceBackend(model: LoadedModel, options: BackendOptions = {}): ReferenceBackend {
  const c = model.config;
  const w = model.weights;
  const kv16 = (options.kvDtype ?? (computesIn16Bit(w) ? 'f16' : 'f32')) === 'f16';
  const { contextLength, maxStepTokens, geometry: contextGeometry } = backendSizes(c, { ...options, kvDtype: kv16 ? 'f16' : 'f32' });
  const { cos, sin } = ropeTablesFor(c, contextLength);
  // The pool is re-sized at reset: the whole context for the full cache, the budget otherwise.
  let geometry = contextGeometry;
  let cache = new HostKvCache(geometry, 0, kv16);
  let runner = createCpuPolicyRunner(createPolicy('full'), cache, c.numHeads);
  let driver = createEvictionDriver(runner.policy, undefined, cache, null);
  let settings: CacheConfig | undefined; // the current sequence's cache settings
  // Attention scratch, reused: (maxStepTokens, heads, slots per head) probabilities, (maxStepTokens, heads, headDim) output.
  const probs = new Float64Array(maxStepTokens * c.numHeads * geometry.maxPagesPerHead * geometry.pageSize);
  const attnOut = new Float64Array(maxStepTokens * c.numHeads * c.headDim);

  const H = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  const eps = c.rmsNormEps;

  /** LaProx's output-aware factor: mean over the group's query heads h of ||W_O^h v||. */
  function valueNorm(o: Float32Array, v: Float64Array, kvHead: number, t: number): number {
    const group = c.numHeads / c.numKvHeads;
    const vBase = (t * c.numKvHeads + kvHead) * c.headDim;
    let total = 0;
    for (let q = 0; q < group; q++) {
      const col = (kvHead * group + q) * c.headDim;
      let sq = 0;
      for (let r = 0; r < H; r++) {
        let dot = 0;
        for (let d = 0; d < c.headDim; d++) dot += o[r * qDim + col + d] * v[vBase + d];
        sq += dot * dot;
      }
      total += Math.sqrt(sq);
    }
    return total / group;
  }

  let memo: PrefixMemo | null = null;
  let provide: ((config: CacheConfig) => EvictionPolicy | undefined) | null = null;
  let watchLayers = new Set<number>();
  let lastWatched: WatchedAttention[] = [];

  /** Keeps a watched layer's last query row (probs by logical slot, this engine's stride). */
  function keepWatched(l: number, T: number, posStart: number): void {
    if (!watchLayers.has(l)) return;
    const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
    const probeScores = runner.policy.probe ? { bySlot: cache.state.probe, newFrom: posStart } : undefined; // as the step's query found them
    lastWatched.push(watchedAttention(cache.layout, l, c.numHeads, probs.subarray((T - 1) * c.numHeads * maxSlots), maxSlots, probeScores));
  }

  /**
   * A step's probe blocks after its rows, at `at`.. (policies/probe.ts): the answer's, then the
   * lookahead's, each folded into the probe scores; a lookahead to bootstrap is decoded greedily
   * from the step's own prediction (`last`, its logits) first, without folding.
   */
  function runProbe(probe: ProbeRequest, at: number, last: Float64Array): ProbeResult {
    const clean = memo !== null && pristine(at);
    const replay = memo?.probeAt(at, probe, clean) ?? null;
    const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
    if (replay) {
      const seen = new Float64Array(c.numKvHeads * maxSlots);
      for (const block of replay.seen) {
        for (let l = 0; l < c.numLayers; l++) {
          for (let kv = 0; kv < c.numKvHeads; kv++) seen.set(block[l].subarray(kv * at, (kv + 1) * at), kv * maxSlots);
          runner.observeProbe(l, seen, maxSlots);
        }
      }
      return { answer: [...replay.result.answer], look: [...replay.result.look] };
    }
    const record: Float64Array[][] | null = memo?.wantsProbe(at, probe, clean) ? [] : null;
    const fold = (l: number, seen: Float64Array, slots: number) => {
      if (record) {
        if (l === 0) record.push([]);
        const kept = new Float64Array(c.numKvHeads * at); // (kvHeads, at): a pristine cache holds positions < at
        for (let kv = 0; kv < c.numKvHeads; kv++) kept.set(seen.subarray(kv * slots, kv * slots + at), kv * at);
        record.at(-1)!.push(kept);
      }
      runner.observeProbe(l, seen, slots);
    };
    const block = (tokens: readonly number[], onSeen = fold) => probeForwardRef(model, cache, { cos, sin }, tokens, at, onSeen);
    const answer = block(probe.answer);
    let look = [...probe.look];
    if (probe.bootstrapLook > 0) {
      look = [sampleRef(last, { temperature: 0, topP: 1, u: 0 })];
      while (look.length < probe.bootstrapLook) look.push(block(look, () => {}).at(-1)!);
    }
    const result = { answer, look: look.length > 0 ? block(look) : [] };
    if (record) memo!.recordProbe(at, probe, { seen: record, result });
    return result;
  }

  /** Every head holds exactly the positions below posStart: nothing was ever evicted. */
  function pristine(posStart: number): boolean {
    const g = geometry;
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        if (cache.layout.count[l * g.numKvHeads + h] !== posStart) return false;
        if (cache.layout.headSlots[l * g.headSlotsLayerStride + h] !== posStart) return false;
      }
    }
    return true;
  }

  /** A memoised step: the same cache writes and policy calls as forwardRows, without the arithmetic. */
  function replayRows(step: MemoStep, slotMap: Uint32Array, posStart: number): Float64Array {
    const T = step.tokens.length;
    const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
    for (let l = 0; l < c.numLayers; l++) {
      const L = w.layers[l];
      const v = step.v[l];
      runner.observeQueries(l, step.q[l], T, posStart);
      runner.admit(l, slotMap, T, posStart, runner.policy.needsValueNorm ? (h, t) => valueNorm(linearValues(L.o), v, h, t) : undefined);
      cache.write(l, slotMap, T, step.k[l], v);
      for (let r = 0; r < T * c.numHeads; r++) probs.set(step.probs[l].subarray(r * step.slots, (r + 1) * step.slots), r * maxSlots);
      runner.observe(l, probs, T, posStart, c.numHeads, maxSlots);
      keepWatched(l, T, posStart);
    }
    return step.logits;
  }

  function forwardRows(tokens: readonly number[], posStart: number, logits: LogitsRequest): Float64Array {
    const T = tokens.length;
    const x = new Float64Array(T * H); // (T, H) residual stream
    for (let t = 0; t < T; t++) x.set(linearRow(w.embed, tokens[t]), t * H);
    lastWatched = []; // this call's layers, by keepWatched
    const clean = memo !== null && pristine(posStart);
    const replay = memo?.lookup(tokens, posStart, clean, logits === 'all') ?? null;
    const slotMap = cache.append(posStart, T);
    if (replay) return replayRows(replay, slotMap, posStart);
    const record: MemoStep | null = memo?.wantsRecord(posStart, clean)
      ? { tokens: [...tokens], slots: posStart + T, k: [], v: [], q: [], probs: [], logits: new Float64Array(0), allRows: logits === 'all' }
      : null;
    const normed = new Float64Array(T * H);
    const qkv = new Float64Array(T * (qDim + 2 * kvDim));
    const gateUp = new Float64Array(T * 2 * I);
    const act = new Float64Array(T * I);
    for (let l = 0; l < c.numLayers; l++) {
      const L = w.layers[l];
      rmsnormRef(x, L.inputNorm, T, H, eps, normed);
      linearRef(normed, L.qkv, T, qkv);
      const qkNorm = L.qNorm && L.kNorm ? { q: L.qNorm, k: L.kNorm, eps } : undefined;
      const { q, k, v, qPre } = ropeAppendRef({ heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, rows: T, posStart, qkv, qkNorm, cos, sin });
      runner.observeQueries(l, qPre, T, posStart);
      runner.admit(l, slotMap, T, posStart, runner.policy.needsValueNorm ? (h, t) => valueNorm(linearValues(L.o), v, h, t) : undefined);
      cache.write(l, slotMap, T, k, v);
      const { out } = pagedAttentionRef({
        heads: c.numHeads,
        kvHeads: c.numKvHeads,
        headDim: c.headDim,
        pageSize: geometry.pageSize,
        maxPages: geometry.maxPagesPerHead,
        scale: 1 / Math.sqrt(c.headDim),
        rows: T,
        posStart,
        q,
        kPool: cache.kPool,
        vPool: cache.vPool,
        slotPos: cache.layout.slotPos,
        blockTable: cache.layout.blockTables.subarray(l * geometry.tableLayerStride),
        headSlots: cache.layout.headSlots.subarray(l * geometry.headSlotsLayerStride),
        out: attnOut,
        probs,
      });
      runner.observe(l, probs, T, posStart, c.numHeads, geometry.maxPagesPerHead * geometry.pageSize);
      keepWatched(l, T, posStart);
      if (record) {
        record.k.push(k.slice(0, T * kvDim));
        record.q.push(qPre);
        record.v.push(v.slice(0, T * kvDim));
        const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
        const kept = new Float64Array(T * c.numHeads * record.slots); // (T, heads, slots)
        for (let r = 0; r < T * c.numHeads; r++) kept.set(probs.subarray(r * maxSlots, r * maxSlots + record.slots), r * record.slots);
        record.probs.push(kept);
      }
      linearRef(out, L.o, T, x, true);
      rmsnormRef(x, L.postNorm, T, H, eps, normed);
      linearRef(normed, L.gateUp, T, gateUp);
      siluMulRef(gateUp, T, I, act);
      linearRef(act, L.down, T, x, true);
    }
    const rows = logits === 'all' ? T : 1;
    const first = T - rows;
    const finalNormed = rmsnormRef(x.subarray(first * H), w.finalNorm, rows, H, eps);
    const result = linearRef(finalNormed, w.lmHead, rows);
    if (record) {
      record.logits = result.slice();
      memo!.record(posStart, record);
    }
    memo?.computed(T, record !== null);
    return result;
  }

  return {
    kind: 'cpu-reference',
    model,
    maxStepTokens,
    contextLength,
    adapter: 'CPU reference (f64)',
    get kvBytes() {
      return kvBytes(geometry);
    },
    useMemo(m) {
      memo = m;
    },
    providePolicies(p) {
      provide = p;
    },
    reset(config?: CacheConfig, promptLength?: number) {
      memo?.restart();
      const policy = (config && provide?.(config)) || createPolicy(config?.policy ?? 'full', config?.params);
      const next = sequenceGeometry(contextGeometry, evictionSpec(config), promptLength, policy);
      const nextCache = cache.fits(next, policy.historyWindow) ? cache : new HostKvCache(next, policy.historyWindow, kv16);
      const nextRunner = createCpuPolicyRunner(policy, nextCache, c.numHeads);
      driver = createEvictionDriver(policy, config, nextCache, nextRunner); // throws on a budget too small, before anything changes
      if (nextCache === cache) cache.reset();
      nextCache.state.rope = { cos, sin, heads: c.numHeads, kvHeads: c.numKvHeads }; // kept by grownTo
      cache = nextCache;
      runner = nextRunner;
      geometry = next;
      settings = config;
    },
    resume(keep: number, promptLength: number) {
      const next = continuationGeometry(cache.layout, contextGeometry, evictionSpec(settings), runner.policy, keep, promptLength);
      if (!next) return false;
      memo?.restart();
      if (next !== cache.layout.geometry) {
        // A longer prompt than the budget's pool was sized for: the pool grows, its entries stay.
        cache = cache.grownTo(next);
        runner = createCpuPolicyRunner(runner.policy, cache, c.numHeads);
        geometry = next;
      }
      dropFrom(cache, keep);
      driver = createEvictionDriver(runner.policy, settings, cache, runner); // a fresh prompt cut and decision log; the policy state stays
      return true;
    },
    finishPrefill(promptLength: number) {
      return driver.afterPrefill(promptLength);
    },
    evictions: () => driver.decisions,
    rebalances: () => driver.rebalances,
    eviction: () => ({ driver, runner, cache }),
    occupancy: () => cache.layout.count.slice(),
    limits: () => driver.limits.map((n) => Math.min(n, contextLength)),
    watch(layers) {
      watchLayers = new Set(layers);
      lastWatched = [];
    },
    watched: () => lastWatched,
    probe: () => runner.policy.probe,
    async forward(tokens, posStart, sample: SampleControl, logits: LogitsRequest = 'none', probe?: ProbeRequest): Promise<ForwardResult> {
      if (tokens.length === 1) await driver.makeRoom(posStart);
      const rows = forwardRows(tokens, posStart, logits);
      const last = rows.subarray(rows.length - V);
      const result: ForwardResult = { token: sampleRef(last, sample), logits: logits === 'none' ? undefined : rows };
      if (probe) result.probe = runProbe(probe, posStart + tokens.length, last);
      return result;
    },
    dispose() {},
  };
}
