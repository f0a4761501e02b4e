import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { embed } from '../../src/kernels/embed.ts';
import { embedRef } from '../../src/kernels/embed.ref.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// A copy: every f32 must come back bit for bit.
const TOL = { atol: 0 };

describe('embed', () => {
  const shapes = [
    { tokens: 1, vocab: 1, hidden: 1 },
    { tokens: 5, vocab: 7, hidden: 3 },
    { tokens: 3, vocab: 104, hidden: 128 },
    { tokens: 64, vocab: 104, hidden: 65 },
    { tokens: 17, vocab: 1000, hidden: 1000 },
    { tokens: 2, vocab: 50, hidden: 96, wg: 32 },
  ];
  for (const s of shapes) {
    test(`tokens ${s.tokens} vocab ${s.vocab} hidden ${s.hidden} wg ${s.wg ?? 'default'}`, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(s.tokens * 31 + s.hidden);
      const tokens = new Uint32Array(s.tokens);
      // Repeated ids and the last id of the vocabulary both appear.
      for (let t = 0; t < s.tokens; t++) tokens[t] = t === 0 ? s.vocab - 1 : Math.floor(rand() * s.vocab);
      const table = randomArray(s.vocab * s.hidden, 7 + s.hidden);
      const out = createBuffer(gpu.device, 'out', s.tokens * s.hidden * 4);
      const d = embed(gpu, {
        hidden: s.hidden,
        tokens: createBufferFrom(gpu.device, 'tokens', tokens),
        table: { format: 'f32', data: createBufferFrom(gpu.device, 'table', table) },
        out,
        wg: s.wg,
      });
      await runDispatches(gpu, [d], s.tokens);
      const got = await readF32(gpu.device, out, s.tokens * s.hidden);
      expectClose('embed', got, embedRef(tokens, table, s.tokens, s.hidden), TOL);
      expect(got.some((v) => v !== 0)).toBe(true);
    });
  }
});
