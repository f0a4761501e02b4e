import { describe, expect, test } from 'vitest';
import { GpuLimitError } from '../../src/errors.ts';
import type { GpuLinear } from '../../src/model/gpu-weights.ts';
import { rowRanges } from '../../src/model/linear-dispatch.ts';

const buffer = (size: number) => ({ size }) as GPUBuffer;
const linear = (format: GpuLinear['format'], rows: number, cols: number, bias = false): GpuLinear => ({
  format,
  rows,
  cols,
  data: buffer(1 << 30),
  scales: format.startsWith('q4') ? buffer(1 << 30) : undefined,
  bias: bias ? buffer(rows * 4) : undefined,
});

describe('rowRanges: binding-sized row ranges at 256-byte offsets', () => {
  test('a Linear that fits is one range', () => {
    expect(rowRanges(linear('f16', 151936, 1024), 2 ** 30, 'x')).toEqual([{ first: 0, count: 151936 }]);
  });
  test('a 152k x 2048 f16 embedding under a 128 MiB limit: 5 ranges of whole rows, covering every row once', () => {
    const r = rowRanges(linear('f16', 151936, 2048), 128 * 2 ** 20, 'x');
    expect(r.length).toBe(5);
    expect(r.reduce((s, x) => s + x.count, 0)).toBe(151936);
    for (const x of r) {
      expect((x.first * 2048 * 2) % 256).toBe(0);
      expect(x.count * 2048 * 2).toBeLessThanOrEqual(128 * 2 ** 20);
    }
  });
  test('q4 with f16 scales: offsets of codes, scales and bias all land on 256 bytes', () => {
    // cols 96: codes 48 bytes a row, scales 6 bytes a row (128 rows to align), bias 4 (64 rows).
    const r = rowRanges(linear('q4f16', 1000, 96, true), 48 * 300, 'x');
    for (const x of r) {
      expect((x.first * 48) % 256).toBe(0);
      expect((x.first * 6) % 256).toBe(0);
      expect((x.first * 4) % 256).toBe(0);
    }
    expect(r[0].count).toBe(128 * Math.floor(300 / 128));
  });
  test('a limit below one aligned range of rows is a GpuLimitError naming the weight', () => {
    expect(() => rowRanges(linear('q4f16', 1000, 96, true), 1000, 'lm_head')).toThrow(GpuLimitError);
    expect(() => rowRanges(linear('q4f16', 1000, 96, true), 1000, 'lm_head')).toThrow(/lm_head/);
  });
});
