/**
 * The per-token attention kernels over a full paged KV cache at real head shapes and cache
 * lengths: paged-attention (src/kernels/paged-attention.ts) decoding one token with an f16 pool
 * (kvF16, what the 16-bit and 4-bit models store), and the fused score update
 * (src/kernels/score-update.ts) folding that token's attention row into a policy's per-slot state.
 * Every KV head holds `length` entries (positions 0 .. length - 1, the last one written this
 * step) in pages of 16 handed out in shuffled order, as a pool serving many heads hands them out.
 * Each is checked against its CPU reference at the benchmarked shape.
 *
 * Bytes, each counted once (the least a kernel must move; the kernels may read more):
 *   paged-attention: K + V (f16) + slot positions + block table read, probs written, q read, out written.
 *     (The single-workgroup kernel reads a KV head's K and V once per query head of its group.)
 *   score-update: probs + slot positions + block table read, and the state it updates read and
 *     written: every entry's score (h2o, tova), the window ring's one cell (window), the hit
 *     entries' score and stamp (crystal). (crystal's bisection rereads the probs 32 times.)
 *
 * Variants are rows of a list: a paged-attention variant is a name and args over the defaults
 * (for example a split-K kernel's options), a score-update variant is a policy (its GPU rule and
 * its CPU fold). Every variant is swept over the workgroup sizes unless its args fix `wg`.
 */
import type { Gpu } from '../src/gpu/device.ts';
import { floatToHalf, halfToFloat } from '../src/gpu/half.ts';
import { readF32, UNIFORM } from '../src/gpu/buffers.ts';
import { STEP_BYTES, writeStep } from '../src/gpu/step-params.ts';
import { pagedAttentionDispatches, type PagedAttentionDecodeArgs } from '../src/kernels/paged-attention.ts';
import { pagedAttentionRef } from '../src/kernels/paged-attention.ref.ts';
import { pagedSlot } from '../src/kernels/paged-slot.ref.ts';
import { scoreUpdate } from '../src/kernels/score-update.ts';
import { scoreUpdateRef } from '../src/kernels/score-update.ref.ts';
import { createRng } from '../src/engine/rng.ts';
import type { EvictionPolicy } from '../src/policies/policy.ts';
import { Arena, both, compare, copiesFor, formatRow, rowHeader, sweep, xorshift, type KernelRow, type Timer } from './kernel-measure.ts';

export interface AttentionShape {
  model: string;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export const ATTENTION_SHAPES: readonly AttentionShape[] = [
  { model: 'qwen3-0.6b', heads: 16, kvHeads: 8, headDim: 128 },
  { model: 'r1-distill-qwen-1.5b', heads: 12, kvHeads: 2, headDim: 128 },
];

/** A paged-attention variant: args over the defaults; `subgroups` variants run only where the adapter has them. */
export interface AttentionVariant {
  name: string;
  args: Partial<PagedAttentionDecodeArgs>;
}

/**
 * Before: the single-workgroup kernel (one workgroup per head over the whole cache). After: split-K
 * decode (flash-decoding: split pass + reduce, timed together) at two split sizes, with and without subgroups.
 */
export const ATTENTION_VARIANTS: readonly AttentionVariant[] = [
  { name: 'before: one workgroup per head', args: { split: 0 } },
  { name: 'split 256', args: { split: 256, subgroups: false } },
  { name: 'split 512', args: { split: 512, subgroups: false } },
  { name: 'split 256 subgroups', args: { split: 256, subgroups: true } },
];

export interface AttentionOptions {
  shapes: readonly AttentionShape[];
  lengths: readonly number[];
  wgs: readonly number[];
  flushBytes: number;
  attentionVariants: readonly AttentionVariant[];
  /** score-update variants: each policy's GPU update rule, checked against the policy's own CPU fold. */
  scorePolicies: readonly EvictionPolicy[];
  sections: { attention: boolean; scoreUpdate: boolean };
}

const PAGE_SIZE = 16;

// q, K, V ~ N(0, 1) (K, V rounded to f16), SCALE 1/sqrt(128): scores O(1-5). The kernel sums
// exp over `length` slots in f32 per thread, then across the workgroup: relative error of a few
// 1e-7 at 32K slots on the probabilities, and out (|out| ~ 0.1) stays within 1e-5 of the f64
// reference. A probability in the wrong slot is off by the probability itself (>= 1e-3 relative).
const ATTENTION_TOL = { out: { atol: 1e-5 }, probs: { atol: 1e-9, rtol: 1e-4 } };
// As test/kernels/score-update.gpu.test.ts: f32 against f64 within a few ulps; stamps are integers.
const SCORE_TOL = { score: { atol: 1e-6, rtol: 1e-5 }, stamp: { atol: 0 } };

/** A full cache of `length` entries per KV head, as the host holds it (the references read this). */
interface Fixture {
  shape: AttentionShape;
  length: number;
  maxPages: number;
  numSlots: number;
  posStart: number; // the decoded token's position: length - 1
  blockTable: Uint32Array; // (kvHeads, maxPages)
  headSlots: Uint32Array; // (kvHeads) = length
  slotPos: Int32Array; // (numSlots)
  k16: Uint16Array; // (numSlots, headDim) f16
  v16: Uint16Array;
  q: Float32Array; // (heads, headDim)
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function makeFixture(shape: AttentionShape, length: number, seed: number): Fixture {
  const { kvHeads, headDim: D } = shape;
  const rand = createRng(seed);
  const maxPages = Math.ceil(length / PAGE_SIZE);
  const numPages = kvHeads * maxPages;
  const numSlots = numPages * PAGE_SIZE;
  const order = Array.from({ length: numPages }, (_, i) => i);
  for (let i = numPages - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const blockTable = Uint32Array.from(order);
  const slotPos = new Int32Array(numSlots).fill(-1);
  for (let g = 0; g < kvHeads; g++) {
    for (let s = 0; s < length; s++) slotPos[pagedSlot(blockTable, g * maxPages, PAGE_SIZE, s)] = s;
  }
  // K and V from a table of 65536 N(0, 1) halves, two look-ups per u32 of xorshift.
  const table = Uint16Array.from({ length: 65536 }, () => floatToHalf(gaussian(rand)));
  const pool = (s: number) => {
    const next = xorshift(s);
    const out = new Uint16Array(numSlots * D);
    for (let i = 0; i < out.length; i += 2) {
      const u = next();
      out[i] = table[u & 0xffff];
      out[i + 1] = table[u >>> 16];
    }
    return out;
  };
  return {
    shape,
    length,
    maxPages,
    numSlots,
    posStart: length - 1,
    blockTable,
    headSlots: new Uint32Array(kvHeads).fill(length),
    slotPos,
    k16: pool(seed + 1),
    v16: pool(seed + 2),
    q: Float32Array.from({ length: shape.heads * D }, () => gaussian(rand)),
  };
}

const decode16 = (() => {
  let table: Float32Array | undefined;
  return (h: Uint16Array) => {
    table ??= Float32Array.from({ length: 65536 }, (_, i) => halfToFloat(i));
    const out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
    return out;
  };
})();

async function benchAttention(gpu: Gpu, timer: Timer, f: Fixture, peak: number, o: AttentionOptions): Promise<KernelRow[]> {
  const device = gpu.device;
  const { heads, kvHeads, headDim: D } = f.shape;
  const maxSlots = f.maxPages * PAGE_SIZE;
  const arena = new Arena(device);
  try {
    const want = pagedAttentionRef({
      heads, kvHeads, headDim: D, pageSize: PAGE_SIZE, maxPages: f.maxPages, scale: 1 / Math.sqrt(D), rows: 1, posStart: f.posStart,
      q: f.q, kPool: decode16(f.k16), vPool: decode16(f.v16), slotPos: f.slotPos, blockTable: f.blockTable, headSlots: f.headSlots,
    });
    const step = arena.buffer('step', STEP_BYTES, UNIFORM);
    writeStep(device, step, 1, f.posStart);
    const inputs = { kPool: arena.upload('kPool', f.k16), vPool: arena.upload('vPool', f.v16), slotPos: arena.upload('slotPos', f.slotPos) };
    const blockTable = arena.upload('blockTable', f.blockTable);
    const headSlots = arena.upload('headSlots', f.headSlots);
    const q = arena.upload('q', f.q);
    const out = arena.buffer('out', heads * D * 4);
    const probs = arena.buffer('probs', heads * maxSlots * 4);
    const kvBytes = 2 * kvHeads * f.length * D * 2;
    const copies = [inputs];
    for (let c = 1; c < copiesFor(kvBytes, o.flushBytes); c++) {
      copies.push({ kPool: arena.clone(inputs.kPool), vPool: arena.clone(inputs.vPool), slotPos: arena.clone(inputs.slotPos) });
    }
    const common = { heads, kvHeads, headDim: D, pageSize: PAGE_SIZE, maxPages: f.maxPages, scale: 1 / Math.sqrt(D), step, q, kvF16: true, blockTable, headSlots, out, probs };
    const variants = o.attentionVariants.filter((v) => !v.args.subgroups || gpu.hasSubgroups);
    const candidates = variants.flatMap((v) =>
      (v.args.wg !== undefined ? [v.args.wg] : o.wgs).map((wg) => ({
        variant: v.name,
        wg,
        // A decode step: the split pass and the reduce (the prefill kernel's dispatch is empty at one row).
        build: () => copies.map((c) => pagedAttentionDispatches(gpu, { ...common, ...c, wg, ...v.args }).filter((d) => d.grid(1)[0] > 0)),
      })),
    );
    return await sweep(
      timer,
      {
        section: 'attention',
        name: `paged-attention ${f.shape.model} ${f.length / 1024}K`,
        bytes: kvBytes + kvHeads * f.length * 4 + f.blockTable.byteLength + heads * f.length * 4 + 2 * heads * D * 4,
        rows: 1,
        reset() {
          device.queue.writeBuffer(out, 0, new Float32Array(heads * D).fill(NaN));
          device.queue.writeBuffer(probs, 0, new Float32Array(heads * maxSlots).fill(NaN));
        },
        async verify() {
          const gotOut = compare(await readF32(device, out, heads * D), want.out, ATTENTION_TOL.out);
          return both(gotOut, compare(await readF32(device, probs, heads * maxSlots), want.probs, ATTENTION_TOL.probs));
        },
        candidates,
      },
      peak,
    );
  } finally {
    arena.destroy();
  }
}

/**
 * One step's attention rows for score-update: per KV head, 32 heavy entries hold 95% of the group
 * mean (crystal's top-p cut falls between two of them, never within 1e-3 of the mass of either:
 * f32 and f64 choose the same hits), the rest share 5%; every query head of a group gets the
 * same row, so the group mean is that row.
 */
function attentionRows(f: Fixture, p: number, seed: number): Float32Array {
  const { heads, kvHeads } = f.shape;
  const group = heads / kvHeads;
  const maxSlots = f.maxPages * PAGE_SIZE;
  const rand = createRng(seed);
  const probs = new Float32Array(heads * maxSlots);
  const heavy = Math.min(32, f.length);
  for (let g = 0; g < kvHeads; g++) {
    const picked = new Set<number>();
    while (picked.size < heavy) picked.add(Math.floor(rand() * f.length));
    const row = new Float32Array(f.length);
    for (let tries = 0; ; tries++) {
      if (tries === 1000) throw new Error(`no attention rows without a near-tie at p ${p}: the heavy entries hold 95%`);
      for (let s = 0; s < f.length; s++) row[s] = (0.05 * (0.5 + rand())) / f.length;
      const masses = Array.from({ length: heavy }, () => 0.2 + rand());
      const sum = masses.reduce((a, b) => a + b, 0);
      [...picked].forEach((s, i) => (row[s] = (0.95 * masses[i]) / sum));
      const total = row.reduce((a, b) => a + b, 0);
      // The mass at or above each heavy value (largest first) against the cut p * total.
      const sorted = [...picked].map((s) => row[s]).sort((a, b) => b - a);
      let above = 0;
      let clear = p * total < sorted.reduce((a, b) => a + b, 0) - 1e-3; // the cut falls among the heavy entries
      for (const m of sorted) {
        above += m;
        if (Math.abs(above - p * total) < 1e-3) clear = false;
      }
      if (clear) break;
    }
    for (let j = 0; j < group; j++) probs.set(row, (g * group + j) * maxSlots);
  }
  return probs;
}

async function benchScoreUpdate(gpu: Gpu, timer: Timer, f: Fixture, policy: EvictionPolicy, peak: number, o: AttentionOptions): Promise<KernelRow[]> {
  const device = gpu.device;
  const { heads, kvHeads } = f.shape;
  const update = 'cpuOnly' in policy.gpu ? undefined : policy.gpu.update;
  if (!update) throw new Error(`${policy.id} has no GPU score update`);
  const window = Math.max(1, policy.historyWindow);
  const rand = createRng(f.length + 5);
  // State before the step: scores and past stamps for the older entries; the new entry's state is garbage (admit clears it).
  const score = Float32Array.from(f.slotPos, (pos) => (pos >= 0 && pos < f.posStart ? rand() * 2 : 99));
  const stamp = Float32Array.from(f.slotPos, (pos) => (pos >= 0 && pos < f.posStart ? pos + Math.floor(rand() * (f.posStart - pos)) : 77));
  const history = new Float32Array(f.numSlots * window).map(() => rand());
  const probs = attentionRows(f, update.constants?.P ?? 0.9, f.length + 11);
  const want = scoreUpdateRef({
    fold: policy, heads, kvHeads, pageSize: PAGE_SIZE, maxPages: f.maxPages, rows: 1, posStart: f.posStart,
    probs, slotPos: f.slotPos, blockTable: f.blockTable, headSlots: f.headSlots, score, stamp, history,
  });
  const arena = new Arena(device);
  try {
    const step = arena.buffer('step', STEP_BYTES, UNIFORM);
    writeStep(device, step, 1, f.posStart);
    const blockTable = arena.upload('blockTable', f.blockTable);
    const headSlots = arena.upload('headSlots', f.headSlots);
    const first = {
      probs: arena.upload('probs', probs),
      slotPos: arena.upload('slotPos', f.slotPos),
      score: arena.upload('score', score),
      stamp: arena.upload('stamp', stamp),
      history: arena.upload('history', history),
    };
    const entries = kvHeads * f.length;
    const hits = update.rule === 'crystal' ? want.stamp.reduce((n, t, i) => n + (t === f.posStart && f.slotPos[i] >= 0 ? 1 : 0), 0) : 0;
    // Bytes of state the rule writes: h2o reads and writes score, tova and window write one value, crystal's hits two.
    const stateBytes: number = ({ h2o: 2 * entries * 4, crystal: hits * 2 * 2 * 4 } as Record<string, number>)[update.rule] ?? entries * 4;
    const bytes = probs.byteLength + entries * 4 + f.blockTable.byteLength + stateBytes;
    const copies = [first];
    for (let c = 1; c < copiesFor(bytes, o.flushBytes); c++) {
      copies.push({ probs: arena.clone(first.probs), slotPos: arena.clone(first.slotPos), score: arena.clone(first.score), stamp: arena.clone(first.stamp), history: arena.clone(first.history) });
    }
    const common = { rule: update, window, heads, kvHeads, pageSize: PAGE_SIZE, maxPages: f.maxPages, step, blockTable, headSlots };
    return await sweep(
      timer,
      {
        section: 'score-update',
        name: `score-update ${f.shape.model} ${f.length / 1024}K`,
        bytes,
        rows: 1,
        reset() {
          // The state is updated in place: fresh before every check (timing runs the step many times).
          device.queue.writeBuffer(first.score, 0, score);
          device.queue.writeBuffer(first.stamp, 0, stamp);
          device.queue.writeBuffer(first.history, 0, history);
        },
        async verify() {
          const s = compare(await readF32(device, first.score, f.numSlots), want.score, SCORE_TOL.score);
          const t = compare(await readF32(device, first.stamp, f.numSlots), want.stamp, SCORE_TOL.stamp);
          if (update.rule !== 'window') return both(s, t);
          return both(both(s, t), compare(await readF32(device, first.history, f.numSlots * window), want.history, SCORE_TOL.score));
        },
        candidates: o.wgs.map((wg) => ({ variant: policy.id, wg, build: () => copies.map((c) => scoreUpdate(gpu, { ...common, ...c, wg })) })),
      },
      peak,
    );
  } finally {
    arena.destroy();
  }
}

/** paged-attention and score-update at every shape and length; one fixture serves both. */
export async function benchAttentionKernels(gpu: Gpu, timer: Timer, log: (line: string) => void, peak: number, o: AttentionOptions): Promise<KernelRow[]> {
  const all: KernelRow[] = [];
  const header = [o.sections.attention && 'paged-attention (decode, f16 KV)', o.sections.scoreUpdate && 'score-update (decode)'].filter(Boolean).join(', then ');
  log(rowHeader(header));
  for (const shape of o.shapes) {
    for (const length of o.lengths) {
      const f = makeFixture(shape, length, length + shape.heads);
      const rows: KernelRow[] = [];
      if (o.sections.attention) rows.push(...(await benchAttention(gpu, timer, f, peak, o)));
      if (o.sections.scoreUpdate) for (const policy of o.scorePolicies) rows.push(...(await benchScoreUpdate(gpu, timer, f, policy, peak, o)));
      for (const r of rows) log(formatRow(r));
      all.push(...rows);
    }
  }
  return all;
}
