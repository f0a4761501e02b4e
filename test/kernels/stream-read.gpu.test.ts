import { describe, expect, test } from 'vitest';
import { createBufferFrom, readU32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { streamRead, streamReadGroups } from '../../src/kernels/stream-read.ts';
import { streamReadRef } from '../../src/kernels/stream-read.ref.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Wrapping u32 sums are exact in any order: the tolerance is 0. A vec4 read twice, skipped, or
// added into another workgroup's partial changes a partial by a random 32-bit amount.
const TOL = { atol: 0 };

interface Case {
  count: number; // vec4s
  wg?: number;
  workgroups?: number;
}

const cases: Case[] = [
  { count: 1 },
  { count: 1, wg: 32, workgroups: 3 }, // idle workgroups write 0
  { count: 5, wg: 32 },
  { count: 1000, wg: 64, workgroups: 7 }, // many passes of the grid-stride loop, a ragged last one
  { count: 4097, wg: 128 },
  { count: 32 * 256 * 8 + 3, wg: 256 }, // the default grid, one vec4 past a whole number of passes
  { count: 1 << 20, wg: 64 }, // 16 MiB, the default grid
  { count: 300_000, wg: 32, workgroups: 65535 }, // the largest grid: most threads read one vec4, some none
];

describe('stream-read', () => {
  for (const c of cases) {
    test(`count ${c.count} wg ${c.wg ?? 'default'} workgroups ${c.workgroups ?? 'default'}`, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(c.count + (c.wg ?? 0));
      const data = Uint32Array.from({ length: 4 * c.count }, () => Math.floor(rand() * 2 ** 32));
      const wg = c.wg ?? 256;
      const groups = streamReadGroups(c.count, wg, c.workgroups);
      const partial = createBufferFrom(gpu.device, 'partial', new Uint32Array(groups).fill(0xdeadbeef)); // garbage to overwrite
      const d = streamRead(gpu, { count: c.count, data: createBufferFrom(gpu.device, 'data', data), partial, workgroups: c.workgroups, wg: c.wg });
      await runDispatches(gpu, [d], 1);
      const got = await readU32(gpu.device, partial, groups);
      const want = streamReadRef(data, wg, groups);
      expectClose('stream-read', got, want, TOL);
      expect(got.some((v) => v !== 0)).toBe(true);
    });
  }
});
