/**
 * The answer-first probe's rows on the CPU reference (policies/probe.ts): after a decode step has
 * written its token, `rows` run through every layer at positions posStart.. . Each row attends to
 * the entries the cache holds now and, causally, to the probe rows before it and itself, but no
 * probe row's K/V is written to the cache. Per layer, `seen` reports the most attention any row
 * paid each cached entry, summed over the KV group's query heads; the greedy prediction after
 * each row comes back.
 * This is the same arithmetic as running the probe rows in the step's own tile after the real
 * token (what the GPU engine does): the real row never sees the probe rows, so its result is the
 * same either way.
 */
import { rmsnormRef } from '../kernels/rmsnorm.ref.ts';
import { ropeAppendRef } from '../kernels/rope-append.ref.ts';
import { sampleRef } from '../kernels/sample.ref.ts';
import { siluMulRef } from '../kernels/silu-mul.ref.ts';
import type { HostKvCache } from '../kv/host-kv-cache.ts';
import { physicalSlot } from '../kv/kv-layout.ts';
import { linearRef, linearRow } from './linear.ts';
import type { LoadedModel } from './load-model.ts';

const GREEDY_CONTROL = { temperature: 0, topP: 1, u: 0 };

export function probeForwardRef(
  model: LoadedModel,
  cache: HostKvCache,
  rope: { cos: ArrayLike<number>; sin: ArrayLike<number> },
  rows: readonly number[],
  posStart: number,
  /** Layer l's (kvHeads, maxSlots) most attention per cached entry, by logical slot. */
  onSeen: (layer: number, seen: Float64Array, maxSlots: number) => void,
): number[] {
  const c = model.config;
  const w = model.weights;
  const R = rows.length;
  const H = c.hiddenSize;
  const D = c.headDim;
  const I = c.intermediateSize;
  const group = c.numHeads / c.numKvHeads;
  const eps = c.rmsNormEps;
  const layout = cache.layout;
  const g = layout.geometry;
  const maxSlots = g.maxPagesPerHead * g.pageSize;
  const scale = 1 / Math.sqrt(D);
  const x = new Float64Array(R * H); // (R, H) the probe rows' residual stream
  for (let r = 0; r < R; r++) x.set(linearRow(w.embed, rows[r]), r * H);
  const normed = new Float64Array(R * H);
  const qkv = new Float64Array(R * (c.numHeads + 2 * c.numKvHeads) * D);
  const attn = new Float64Array(R * c.numHeads * D);
  const gateUp = new Float64Array(R * 2 * I);
  const act = new Float64Array(R * I);
  const seen = new Float64Array(c.numKvHeads * maxSlots);
  const slots = new Int32Array(maxSlots); // a head's cached entries: physical slot
  const logical = new Int32Array(maxSlots); // and logical slot
  const { kPool, vPool } = cache;
  for (let l = 0; l < c.numLayers; l++) {
    const L = w.layers[l];
    rmsnormRef(x, L.inputNorm, R, H, eps, normed);
    linearRef(normed, L.qkv, R, qkv);
    const qkNorm = L.qNorm && L.kNorm ? { q: L.qNorm, k: L.kNorm, eps } : undefined;
    const { q, k, v } = ropeAppendRef({ heads: c.numHeads, kvHeads: c.numKvHeads, headDim: D, rows: R, posStart, qkv, qkNorm, cos: rope.cos, sin: rope.sin });
    seen.fill(0);
    for (let kv = 0; kv < c.numKvHeads; kv++) {
      const used = layout.headSlots[l * g.headSlotsLayerStride + kv];
      let n = 0;
      for (let s = 0; s < used; s++) {
        const slot = physicalSlot(layout, l, kv, s);
        if (layout.slotPos[slot] < 0) continue;
        slots[n] = slot;
        logical[n++] = s;
      }
      const p = new Float64Array(n + R); // one query head's probabilities: cached entries, then probe rows
      const groupSum = new Float64Array(n);
      for (let r = 0; r < R; r++) {
        groupSum.fill(0);
        for (let hq = kv * group; hq < (kv + 1) * group; hq++) {
          // The cached entries (i < n), then the probe rows up to this one; two loops instead of a
          // branch per entry (the reference's hot loop), the same sums in the same order.
          const qo = (r * c.numHeads + hq) * D;
          const total = n + r + 1;
          let max = -Infinity;
          for (let i = 0; i < n; i++) {
            const kBase = slots[i] * D;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[qo + d] * kPool[kBase + d];
            p[i] = dot * scale;
            max = Math.max(max, p[i]);
          }
          for (let i = n; i < total; i++) {
            const kBase = ((i - n) * c.numKvHeads + kv) * D;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[qo + d] * k[kBase + d];
            p[i] = dot * scale;
            max = Math.max(max, p[i]);
          }
          let z = 0;
          for (let i = 0; i < total; i++) z += p[i] = Math.exp(p[i] - max);
          const out = attn.subarray(qo, qo + D).fill(0);
          for (let i = 0; i < n; i++) {
            const a = p[i] / z;
            groupSum[i] += a;
            const vBase = slots[i] * D;
            for (let d = 0; d < D; d++) out[d] += a * vPool[vBase + d];
          }
          for (let i = n; i < total; i++) {
            const a = p[i] / z;
            const vBase = ((i - n) * c.numKvHeads + kv) * D;
            for (let d = 0; d < D; d++) out[d] += a * v[vBase + d];
          }
        }
        for (let i = 0; i < n; i++) {
          const at = kv * maxSlots + logical[i];
          seen[at] = Math.max(seen[at], groupSum[i]);
        }
      }
    }
    onSeen(l, seen, maxSlots);
    linearRef(attn, L.o, R, x, true);
    rmsnormRef(x, L.postNorm, R, H, eps, normed);
    linearRef(normed, L.gateUp, R, gateUp);
    siluMulRef(gateUp, R, I, act);
    linearRef(act, L.down, R, x, true);
  }
  const logits = linearRef(rmsnormRef(x, w.finalNorm, R, H, eps), w.lmHead, R);
  const V = c.vocabSize;
  return rows.map((_, r) => sampleRef(logits.subarray(r * V, (r + 1) * V), GREEDY_CONTROL));
}
