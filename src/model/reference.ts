/**
 * The CPU reference engine: the same forward pass as the GPU engine, built from the kernels'
 * CPU references (f64 arithmetic over f32 weights) and the same paged-KV bookkeeping. It is the
 * oracle the GPU engine is tested against, and the fast path of the accuracy evaluation.
 */
import {
  backendSizes,
  evictionSpec,
  sequenceGeometry,
  type BackendOptions,
  type CacheConfig,
  type ForwardBackend,
  type ForwardResult,
  type LogitsRequest,
  type SampleControl,
} from '../engine/backend.ts';
import { watchedAttention } from '../engine/watch.ts';
import type { WatchedAttention } from '../engine/types.ts';
import { createEvictor, type Evictor } from '../policies/evictor.ts';
import { createPolicy } from '../policies/registry.ts';
import { kvCompactRef } from '../kernels/kv-compact.ref.ts';
import { pagedAttentionRef } from '../kernels/paged-attention.ref.ts';
import { rmsnormRef } from '../kernels/rmsnorm.ref.ts';
import { ropeRef } from '../kernels/rope.ref.ts';
import { sampleRef } from '../kernels/sample.ref.ts';
import { siluMulRef } from '../kernels/silu-mul.ref.ts';
import { appendTokens, createKvLayout, kvBytes, type KvLayout } from '../kv/kv-layout.ts';
import { roundHalf } from '../gpu/half.ts';
import { linearRef, linearRow, linearValues } from './linear.ts';
import { computesIn16Bit } from './weights.ts';
import type { LoadedModel } from './load-model.ts';
import { ropeTablesFor } from './rope-frequencies.ts';
import type { MemoStep, PrefixMemo } from './prefix-memo.ts';

export interface ReferenceBackend extends ForwardBackend {
  /** Replays the shared beginning of sequences on one prompt from `memo` (evaluation); null: off. */
  useMemo(memo: PrefixMemo | null): void;
}

export function createReferenceBackend(model: LoadedModel, options: BackendOptions = {}): ReferenceBackend {
  const c = model.config;
  const w = model.weights;
  const kv16 = (options.kvDtype ?? (computesIn16Bit(w) ? 'f16' : 'f32')) === 'f16';
  const { contextLength, maxStepTokens, geometry: contextGeometry } = backendSizes(c, { ...options, kvDtype: kv16 ? 'f16' : 'f32' });
  const { cos, sin } = ropeTablesFor(c, contextLength);
  // The pool is re-sized at reset: the whole context for the full cache, the budget otherwise.
  let geometry = contextGeometry;
  let kPool = new Float64Array(geometry.numPages * geometry.pageSize * c.headDim); // (numSlots, headDim)
  let vPool = new Float64Array(geometry.numPages * geometry.pageSize * c.headDim); // (numSlots, headDim)
  let layout: KvLayout = createKvLayout(geometry);
  let evictor: Evictor = createEvictor(createPolicy('full'), layout, null, c.numHeads);
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
  let watchLayers = new Set<number>();
  let lastWatched: WatchedAttention[] = [];

  /** Keeps a watched layer's last query row (probs by logical slot, this engine's stride). */
  function keepWatched(l: number, T: number): void {
    if (!watchLayers.has(l)) return;
    const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
    lastWatched.push(watchedAttention(layout, l, c.numHeads, probs.subarray((T - 1) * c.numHeads * maxSlots), maxSlots));
  }

  /** Every head holds exactly the positions below posStart: nothing was ever evicted. */
  function pristine(posStart: number): boolean {
    const g = geometry;
    for (let l = 0; l < g.numLayers; l++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        if (layout.count[l * g.numKvHeads + h] !== posStart) return false;
        if (layout.headSlots[l * g.headSlotsLayerStride + h] !== posStart) return false;
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
      evictor.admit(l, slotMap, T, posStart, evictor.policy.needsValueNorm ? (h, t) => valueNorm(linearValues(L.o), v, h, t) : undefined);
      writePools(l, slotMap, T, step.k[l], v);
      for (let r = 0; r < T * c.numHeads; r++) probs.set(step.probs[l].subarray(r * step.slots, (r + 1) * step.slots), r * maxSlots);
      evictor.observe(l, probs, T, posStart, c.numHeads, maxSlots);
      keepWatched(l, T);
    }
    return step.logits;
  }

  function writePools(l: number, slotMap: Uint32Array, T: number, k: Float64Array, v: Float64Array): void {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < c.numKvHeads; h++) {
        const slot = slotMap[l * geometry.slotMapLayerStride + t * c.numKvHeads + h];
        const src = (t * c.numKvHeads + h) * c.headDim;
        if (kv16) {
          // The GPU stores them with pack2x16float: rounded to the nearest half.
          for (let d = 0; d < c.headDim; d++) {
            kPool[slot * c.headDim + d] = roundHalf(k[src + d]);
            vPool[slot * c.headDim + d] = roundHalf(v[src + d]);
          }
          continue;
        }
        kPool.set(k.subarray(src, src + c.headDim), slot * c.headDim);
        vPool.set(v.subarray(src, src + c.headDim), slot * c.headDim);
      }
    }
  }

  function forwardRows(tokens: readonly number[], posStart: number, logits: LogitsRequest): Float64Array {
    const T = tokens.length;
    const x = new Float64Array(T * H); // (T, H) residual stream
    for (let t = 0; t < T; t++) x.set(linearRow(w.embed, tokens[t]), t * H);
    if (T === 1) evictor.makeRoom(posStart);
    lastWatched = []; // this call's layers, by keepWatched
    const clean = memo !== null && pristine(posStart);
    const replay = memo?.lookup(tokens, posStart, clean, logits === 'all') ?? null;
    const slotMap = appendTokens(layout, posStart, T);
    if (replay) return replayRows(replay, slotMap, posStart);
    const record: MemoStep | null = memo?.wantsRecord(posStart, clean)
      ? { tokens: [...tokens], slots: posStart + T, k: [], v: [], probs: [], logits: new Float64Array(0), allRows: logits === 'all' }
      : null;
    const normed = new Float64Array(T * H);
    const q = new Float64Array(T * qDim);
    const k = new Float64Array(T * kvDim);
    const v = new Float64Array(T * kvDim);
    const gateUp = new Float64Array(T * 2 * I);
    const act = new Float64Array(T * I);
    for (let l = 0; l < c.numLayers; l++) {
      const L = w.layers[l];
      rmsnormRef(x, L.inputNorm, T, H, eps, normed);
      linearRef(normed, L.q, T, q);
      linearRef(normed, L.k, T, k);
      linearRef(normed, L.v, T, v);
      if (L.qNorm && L.kNorm) {
        rmsnormRef(q, L.qNorm, T * c.numHeads, c.headDim, eps, q);
        rmsnormRef(k, L.kNorm, T * c.numKvHeads, c.headDim, eps, k);
      }
      ropeRef(q, T, c.numHeads, c.headDim, posStart, cos, sin);
      ropeRef(k, T, c.numKvHeads, c.headDim, posStart, cos, sin);
      evictor.admit(l, slotMap, T, posStart, evictor.policy.needsValueNorm ? (h, t) => valueNorm(linearValues(L.o), v, h, t) : undefined);
      writePools(l, slotMap, T, k, v);
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
        kPool,
        vPool,
        slotPos: layout.slotPos,
        blockTable: layout.blockTables.subarray(l * geometry.tableLayerStride),
        headSlots: layout.headSlots.subarray(l * geometry.headSlotsLayerStride),
        out: attnOut,
        probs,
      });
      evictor.observe(l, probs, T, posStart, c.numHeads, geometry.maxPagesPerHead * geometry.pageSize);
      keepWatched(l, T);
      if (record) {
        record.k.push(k.slice(0, T * kvDim));
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
    reset(cache?: CacheConfig, promptLength?: number) {
      memo?.restart();
      const policy = createPolicy(cache?.policy ?? 'full', cache?.params);
      const budget = cache?.budget === undefined ? null : { mode: cache.mode ?? 'all', budget: cache.budget };
      const next = sequenceGeometry(contextGeometry, evictionSpec(cache), promptLength, policy);
      const nextLayout = createKvLayout(next);
      evictor = createEvictor(policy, nextLayout, budget, c.numHeads); // throws on a budget too small, before anything changes
      layout = nextLayout;
      if (next.numPages !== geometry.numPages) {
        kPool = new Float64Array(next.numPages * next.pageSize * c.headDim);
        vPool = new Float64Array(next.numPages * next.pageSize * c.headDim);
      }
      geometry = next;
      if (policy.needsKeys) evictor.state.keys = { data: kPool, dim: c.headDim };
      // Compaction (budgets that shrink): K and V follow the entries the layout moved.
      evictor.onCompact = (moves) => kvCompactRef({ moves, headDim: c.headDim, k: kPool, v: vPool });
    },
    finishPrefill(promptLength: number) {
      evictor.afterPrefill(promptLength);
    },
    evictions: () => evictor.decisions,
    rebalances: () => evictor.rebalances,
    evictor: () => evictor,
    occupancy: () => evictor.counts(),
    limits: () => evictor.limits.map((n) => Math.min(n, contextLength)),
    watch(layers) {
      watchLayers = new Set(layers);
      lastWatched = [];
    },
    watched: () => lastWatched,
    async forward(tokens, posStart, sample: SampleControl, logits: LogitsRequest = 'none'): Promise<ForwardResult> {
      const rows = forwardRows(tokens, posStart, logits);
      const last = rows.subarray(rows.length - V);
      return { token: sampleRef(last, sample), logits: logits === 'none' ? undefined : rows };
    },
    dispose() {},
  };
}
