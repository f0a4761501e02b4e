/**
 * rope-append: the fused q/k/v rows → Qwen3's q/k norm, RoPE, and the K/V append into the paged
 * pool, in one dispatch, against its CPU reference (ropeAppendRef, then kvAppendRef for the
 * pools). Also the rope tables themselves, against numpy's float32.
 */
import { describe, expect, test } from 'vitest';
import { createBufferFrom, readBuffer, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';
import { kvAppendRef } from '../../src/kernels/kv-append.ref.ts';
import { ropeAppend } from '../../src/kernels/rope-append.ts';
import { ropeAppendRef } from '../../src/kernels/rope-append.ref.ts';
import { defaultInvFreq, ropeTables } from '../../src/kernels/rope.ref.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// q and k: rope is two f32 products and a sum per element, |x| <= 4: a few ulps of 8, so 2e-6;
// with the norm, its f32 sum of squares adds under 1e-5 relative (the rmsnorm test's bound).
const ROPE_TOL = { atol: 2e-6 };
const NORM_TOL = { atol: 1e-5, rtol: 1e-5 };
// v is copied: exact. f16 pools: v is rounded exactly as the reference rounds it; k may sit on
// the other side of a rounding boundary after its f32 arithmetic: one half ulp, 2^-10 relative.
const EXACT = { atol: 0 };
const HALF_ULP = { atol: 1e-6, rtol: 2 ** -10 };
const PAGE_SIZE = 16;
const MAX_POSITIONS = 400;

interface Case {
  rows: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  posStart: number;
  pages: number;
  qkNorm?: boolean;
  kvF16?: boolean;
  wg?: number;
  /** Also map some (token, head) pairs past the pool: they must be skipped. */
  skips?: boolean;
  /** The grid covers this many rows more than step.rows: they must be left alone. */
  extraRows?: number;
}

/** Distinct slots in shuffled order, so pages and offsets are scattered and non-contiguous. */
function scatteredSlots(c: Case, seed: number): Uint32Array {
  const numSlots = c.pages * PAGE_SIZE;
  const rand = seededRandom(seed);
  const all = Array.from({ length: numSlots }, (_, i) => i);
  for (let i = numSlots - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const rows = c.rows + (c.extraRows ?? 0);
  const map = Uint32Array.from(all.slice(0, rows * c.kvHeads));
  if (c.skips) for (let i = 1; i < map.length; i += 3) map[i] = i % 2 ? 0xffffffff : numSlots;
  return map;
}

const label = (c: Case) =>
  `rows ${c.rows} heads ${c.heads}/${c.kvHeads} headDim ${c.headDim} posStart ${c.posStart}` +
  (c.qkNorm ? ' q/k norm' : '') +
  (c.kvF16 ? ' f16 pools' : '') +
  (c.wg ? ` wg ${c.wg}` : '') +
  (c.skips ? ' with skipped slots' : '') +
  (c.extraRows ? ` (+${c.extraRows} rows past step.rows)` : '');

async function check(c: Case): Promise<void> {
  const gpu = await testGpu();
  const numSlots = c.pages * PAGE_SIZE;
  const D = c.headDim;
  const gridRows = c.rows + (c.extraRows ?? 0);
  const width = (c.heads + 2 * c.kvHeads) * D;
  const seed = c.rows * 101 + c.kvHeads * 7 + D + (c.qkNorm ? 1 : 0);
  const qkv = randomArray(gridRows * width, seed + 1, 4);
  const qNorm = randomArray(D, seed + 2, 2);
  const kNorm = randomArray(D, seed + 3, 2);
  const { cos, sin } = ropeTables(D, MAX_POSITIONS, defaultInvFreq(D, D === 64 ? 1e6 : 10000));
  const slotMap = scatteredSlots(c, seed + 4);
  // Pools hold earlier entries and empty slots (-1) that must survive untouched.
  const words = c.kvF16 ? D / 2 : D;
  const kBefore = c.kvF16 ? new Uint32Array(Uint16Array.from(randomArray(numSlots * D, seed + 5), floatToHalf).buffer) : new Uint32Array(randomArray(numSlots * D, seed + 5).buffer);
  const vBefore = kBefore.slice();
  const slotPos = new Int32Array(numSlots).map((_, i) => (i % 3 === 0 ? -1 : 1000 + i));
  const qBefore = randomArray(gridRows * c.heads * D, seed + 6);
  const step = createStepBuffer(gpu.device);
  writeStep(gpu.device, step, c.rows, c.posStart);
  const qBuf = createBufferFrom(gpu.device, 'q', qBefore);
  const kPool = createBufferFrom(gpu.device, 'kPool', kBefore);
  const vPool = createBufferFrom(gpu.device, 'vPool', vBefore);
  const slotPosBuf = createBufferFrom(gpu.device, 'slotPos', slotPos);
  const d = ropeAppend(gpu, {
    heads: c.heads,
    kvHeads: c.kvHeads,
    headDim: D,
    step,
    qkv: createBufferFrom(gpu.device, 'qkv', qkv),
    qkNorm: c.qkNorm ? { q: createBufferFrom(gpu.device, 'qNorm', qNorm), k: createBufferFrom(gpu.device, 'kNorm', kNorm), eps: 1e-6 } : undefined,
    cos: createBufferFrom(gpu.device, 'cos', cos),
    sin: createBufferFrom(gpu.device, 'sin', sin),
    q: qBuf,
    slotMap: createBufferFrom(gpu.device, 'slotMap', slotMap),
    kPool,
    vPool,
    kvF16: c.kvF16,
    slotPos: slotPosBuf,
    wg: c.wg,
  });
  await runDispatches(gpu, [d], gridRows);

  const want = ropeAppendRef({
    heads: c.heads, kvHeads: c.kvHeads, headDim: D, rows: c.rows, posStart: c.posStart, qkv,
    qkNorm: c.qkNorm ? { q: qNorm, k: kNorm, eps: 1e-6 } : undefined, cos, sin,
  });
  const decode = (w: Uint32Array): Float64Array => (c.kvF16 ? Float64Array.from(new Uint16Array(w.buffer, w.byteOffset, numSlots * D), halfToFloat) : Float64Array.from(new Float32Array(w.buffer, w.byteOffset, numSlots * D)));
  const wantK = decode(kBefore);
  const wantV = decode(vBefore);
  const wantPos = Int32Array.from(slotPos);
  kvAppendRef(want.k, want.v, slotMap, c.rows, c.kvHeads, D, c.posStart, wantK, wantV, wantPos, c.kvF16);
  const wantQ = Float64Array.from(qBefore);
  wantQ.set(want.q);

  const gotQ = await readF32(gpu.device, qBuf, qBefore.length);
  const gotK = decode(new Uint32Array(await readBuffer(gpu.device, kPool, numSlots * words * 4)));
  const gotV = decode(new Uint32Array(await readBuffer(gpu.device, vPool, numSlots * words * 4)));
  const gotPos = new Int32Array(await readBuffer(gpu.device, slotPosBuf, numSlots * 4));
  const qkTol = c.qkNorm ? NORM_TOL : ROPE_TOL;
  expectClose('q', gotQ, wantQ, qkTol);
  expectClose('kPool', gotK, wantK, c.kvF16 ? HALF_ULP : qkTol);
  expectClose('vPool', gotV, wantV, EXACT);
  expectClose('slotPos', gotPos, wantPos, EXACT);
  // Non-trivial: every mapped slot now holds its token's position, and the rotation did something.
  for (let t = 0; t < c.rows; t++) {
    for (let h = 0; h < c.kvHeads; h++) {
      const slot = slotMap[t * c.kvHeads + h];
      if (slot < numSlots) expect(gotPos[slot]).toBe(c.posStart + t);
    }
  }
  if (c.posStart > 0 || c.qkNorm) expect(Array.from(gotQ.subarray(0, D)).some((v, i) => v !== qkv[i])).toBe(true);
}

describe('rope tables', () => {
  test('inverse frequencies are 1 / theta^(2i/d) rounded like float32 PyTorch', () => {
    expect(Array.from(defaultInvFreq(4, 10000))).toEqual([1, Math.fround(0.01)]);
    // numpy float32: np.float32(1) / (np.float32(1e6) ** (np.arange(0, 128, 2, dtype=np.float32) / np.float32(128)))
    const inv = defaultInvFreq(128, 1e6);
    expect([inv[0], inv[1], inv[17], inv[63]]).toEqual([
      1.0, 0.8058422207832336, 0.025482967495918274, 1.2409377632138785e-6,
    ]);
    // numpy float32: np.cos / np.sin of (inv * np.float32(345)) at i = 1, 17, 63. numpy's (like
    // PyTorch's) vectorised float32 sin/cos is accurate to 1 ulp, ours is the correctly rounded f64
    // result, so they may differ by one ulp (they do at sin, i = 17).
    const { cos, sin } = ropeTables(128, 346, inv);
    const at = (table: Float32Array, i: number) => table[345 * 64 + i];
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
    const numpy = [
      [at(cos, 1), 0.015385271050035954],
      [at(cos, 17), -0.8061653971672058],
      [at(cos, 63), 0.9999998807907104],
      [at(sin, 1), 0.9998816251754761],
      [at(sin, 17), 0.5916903018951416],
      [at(sin, 63), 0.0004281235160306096],
    ];
    for (const [ours, theirs] of numpy) expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(ulp(theirs));
  });
});

describe('rope-append', () => {
  const cases: Case[] = [
    { rows: 1, heads: 1, kvHeads: 1, headDim: 2, posStart: 0, pages: 1 },
    { rows: 1, heads: 4, kvHeads: 2, headDim: 64, posStart: 333, pages: 5, qkNorm: true },
    { rows: 5, heads: 8, kvHeads: 4, headDim: 64, posStart: 17, pages: 3 },
    { rows: 5, heads: 2, kvHeads: 2, headDim: 32, posStart: 7, pages: 3, qkNorm: true, wg: 64 },
    { rows: 17, heads: 4, kvHeads: 2, headDim: 32, posStart: 64, pages: 4, skips: true },
    { rows: 64, heads: 4, kvHeads: 4, headDim: 64, posStart: 128, pages: 20, qkNorm: true },
    { rows: 17, heads: 2, kvHeads: 1, headDim: 2, posStart: 250, pages: 3, wg: 32 },
    { rows: 3, heads: 16, kvHeads: 8, headDim: 128, posStart: 129, pages: 2, qkNorm: true, wg: 256 },
    { rows: 3, heads: 2, kvHeads: 1, headDim: 32, posStart: 40, pages: 2, qkNorm: true, extraRows: 1 },
  ];
  for (const c of cases) test(label(c), () => check(c));
});

// 16-bit models keep K and V as f16 pairs (pack2x16float), one thread per pair.
describe('rope-append, f16 pools', () => {
  const cases: Case[] = [
    { rows: 1, heads: 1, kvHeads: 1, headDim: 2, posStart: 0, pages: 1, kvF16: true },
    { rows: 7, heads: 6, kvHeads: 3, headDim: 16, posStart: 0, pages: 3, kvF16: true, qkNorm: true },
    { rows: 5, heads: 8, kvHeads: 4, headDim: 64, posStart: 17, pages: 3, kvF16: true },
    { rows: 17, heads: 4, kvHeads: 2, headDim: 32, posStart: 64, pages: 4, kvF16: true, qkNorm: true, skips: true, wg: 64 },
  ];
  for (const c of cases) test(label(c), () => check(c));
});
