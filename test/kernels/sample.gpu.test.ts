import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readU32, UNIFORM } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { runDispatches, type Dispatch } from '../../src/gpu/kernel.ts';
import { sample, SAMPLE_PARAMS_BYTES, writeSampleParams } from '../../src/kernels/sample.ts';
import { sampleRefDetail, type SampleSettings } from '../../src/kernels/sample.ref.ts';
import { seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// The kernel works in f32 (exp, sums over up to 152,000 terms), the reference in f64: they agree
// on the token except when u * W, or top_p * Z, lies within rounding error of a cumulative-mass
// boundary. Those cases are skipped when the reference's margin is below 1e-5 of the mass, counted,
// and must stay under 5%. Why 1e-5 and not 1e-4: the f32 sums here are good to ~1e-6 relative
// (SwiftShader agreed on every case down to margins of 1e-7), while with 5,000+ tokens a single
// token's share is often below 1e-4, so a 1e-4 margin would skip most of the interesting cases.
const MARGIN = 1e-5;
const SLICE_U32 = 64; // token outputs at 256-byte offsets of one buffer: one read-back per batch

interface Case {
  logits: Float32Array;
  settings: SampleSettings;
}

function gaussian(n: number, rand: () => number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

/** Runs every case in one submit and returns the GPU's tokens. */
async function runCases(gpu: Gpu, cases: readonly Case[], wg?: number): Promise<Uint32Array> {
  const dev = gpu.device;
  const tokens = createBuffer(dev, 'tokens', cases.length * SLICE_U32 * 4);
  const buffers = new Map<Float32Array, GPUBuffer>();
  const dispatches: Dispatch[] = cases.map((c, i) => {
    let logits = buffers.get(c.logits);
    if (!logits) buffers.set(c.logits, (logits = createBufferFrom(dev, 'logits', c.logits)));
    const params = createBuffer(dev, 'params', SAMPLE_PARAMS_BYTES, UNIFORM);
    writeSampleParams(dev, params, c.settings);
    return sample(gpu, {
      vocab: c.logits.length,
      params,
      logits,
      token: { buffer: tokens, offset: i * SLICE_U32 * 4, size: 4 },
      wg,
    });
  });
  await runDispatches(gpu, dispatches, 1);
  const all = await readU32(dev, tokens, cases.length * SLICE_U32);
  return Uint32Array.from(cases, (_, i) => all[i * SLICE_U32]);
}

// The adapter's own workgroup (4 threads on SwiftShader) and a GPU's 256, on every adapter.
for (const wg of [undefined, 256]) describe(`sample, wg ${wg ?? 'the adapter default'}`, () => {
  test('greedy: lowest index among the maxima, vocab 1 to 152,000', async () => {
    const gpu = await testGpu();
    const rand = seededRandom(11);
    const cases: Case[] = [];
    const want: number[] = [];
    const greedy = (logits: Float32Array, token: number) => {
      cases.push({ logits, settings: { temperature: 0, topP: 0.9, u: rand() } });
      want.push(token);
    };
    greedy(new Float32Array([-3.5]), 0);
    greedy(new Float32Array(104).fill(2.25), 0); // all tied
    for (const vocab of [104, 5000, 152000]) {
      const plain = gaussian(vocab, rand, 4);
      plain[vocab - 1] = 100;
      greedy(plain, vocab - 1);
      // Ties at the max, scattered across threads: the lowest index wins.
      const tied = gaussian(vocab, rand, 4);
      const at = [Math.floor(vocab * 0.9), Math.floor(vocab * 0.31) + 1, Math.floor(vocab * 0.6)];
      for (const i of at) tied[i] = 50;
      greedy(tied, Math.min(...at));
      const masked = gaussian(vocab, rand, 4).map((v, i) => (i % 3 === 0 ? -Infinity : v));
      masked[0] = -Infinity;
      greedy(masked, sampleRefDetail(masked, { temperature: 0, topP: 1, u: 0 }).token);
    }
    for (let i = 0; i < cases.length; i++) {
      expect(sampleRefDetail(cases[i].logits, cases[i].settings).token, `reference, case ${i}`).toBe(want[i]);
    }
    expect(Array.from(await runCases(gpu, cases, wg))).toEqual(want);
  });

  for (const vocab of [1, 104, 5000, 152000]) {
    test(`temperature + top-p matches the reference, vocab ${vocab}`, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(vocab);
      const cases: Case[] = [];
      const rows = vocab === 152000 ? 6 : 12;
      const perRow = vocab === 152000 ? 8 : 16;
      for (let r = 0; r < rows; r++) {
        const scale = (vocab >= 5000 ? [2, 4, 8] : [1, 3, 8])[r % 3];
        const logits = gaussian(vocab, rand, scale);
        // Even rows peaked like a trained model's: a few tokens far above the bulk.
        if (r % 2 === 0) for (let j = 0; j < 16; j++) logits[Math.floor(rand() * vocab)] += 12 + 12 * rand();
        // Every other row on a coarse grid: ties in the nucleus and at its boundary.
        if (r % 2 === 1) for (let i = 0; i < vocab; i++) logits[i] = Math.round(logits[i] * 2) / 2;
        if (r % 4 === 3 && vocab > 1) for (let i = 0; i < vocab; i += 7) logits[i] = -Infinity;
        for (let k = 0; k < perRow; k++) {
          const temperature = [0.3, 0.6, 1, 1.7][k % 4];
          const topP = [0.5, 0.9, 0.95, 1, 0.99][Math.floor(k / 4) % 5];
          cases.push({ logits, settings: { temperature, topP, u: k === 0 ? 0 : rand() } });
        }
      }
      const got = await runCases(gpu, cases, wg);
      let skipped = 0;
      const mismatches: string[] = [];
      cases.forEach((c, i) => {
        const ref = sampleRefDetail(c.logits, c.settings);
        if (ref.margin < MARGIN) {
          skipped++;
          return;
        }
        if (got[i] !== ref.token) mismatches.push(`case ${i} ${JSON.stringify(c.settings)}: got ${got[i]} want ${ref.token}`);
      });
      expect(mismatches, mismatches.slice(0, 5).join('; ')).toEqual([]);
      expect(skipped, `${skipped}/${cases.length} cases within ${MARGIN} of a boundary`).toBeLessThanOrEqual(
        Math.ceil(cases.length * 0.05),
      );
      if (vocab > 1) expect(new Set(got).size, 'sampling picks different tokens for different u').toBeGreaterThan(1);
    });
  }

  test('tiny top_p keeps only the argmax; top_p 1 with u near 1 reaches the last tokens', async () => {
    const gpu = await testGpu();
    const rand = seededRandom(5);
    const cases: Case[] = [];
    const want: number[] = [];
    for (const vocab of [104, 5000, 152000]) {
      const logits = gaussian(vocab, rand, 3);
      let argmax = 0;
      for (let i = 1; i < vocab; i++) if (logits[i] > logits[argmax]) argmax = i;
      for (const u of [0, 0.5, 0.999]) {
        cases.push({ logits, settings: { temperature: 0.8, topP: 1e-6, u } });
        want.push(argmax);
      }
      // Flat logits at temperature 1 and top_p 1: the token is floor(u * vocab), far from boundaries.
      const flat = new Float32Array(vocab);
      cases.push({ logits: flat, settings: { temperature: 1, topP: 1, u: (vocab - 0.5) / vocab } });
      want.push(vocab - 1);
      cases.push({ logits: flat, settings: { temperature: 1, topP: 1, u: 0.25 + 0.5 / vocab } });
      want.push(Math.floor(vocab / 4));
    }
    for (let i = 0; i < cases.length; i++) {
      expect(sampleRefDetail(cases[i].logits, cases[i].settings).token, `reference, case ${i}`).toBe(want[i]);
    }
    expect(Array.from(await runCases(gpu, cases, wg))).toEqual(want);
  });
});
