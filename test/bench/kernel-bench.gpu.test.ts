/**
 * A smoke test of the kernel benchmark (bench/kernel-bench.ts) at one small shape per section
 * and one run: every row passes its CPU check and prints a finite GB/s; a wrong kernel prints
 * ERROR and fails the result. The benchmark's figures themselves are measured in bench/, never here.
 */
import { describe, expect, test } from 'vitest';
import { kernelBench, type KernelBenchOptions } from '../../bench/kernel-bench.ts';
import { testGpu } from '../helpers/gpu.ts';

const TINY: KernelBenchOptions = {
  runs: 1,
  wgs: [32, 64],
  bandwidthBytes: 4 * 2 ** 20,
  flushBytes: 0, // no input copies
  linears: ['down'],
  formats: ['q4f16'],
  gemvRows: [1],
  models: ['r1-distill-qwen-1.5b'],
  cacheLengths: [1024],
};

describe('kernel benchmark', () => {
  test('one shape per section: checks pass, rows carry finite GB/s, the best wg is marked', async () => {
    const gpu = await testGpu();
    const lines: string[] = [];
    const result = await kernelBench(gpu, (line) => lines.push(line), TINY);
    const text = lines.join('\n');
    expect(result.ok, text).toBe(true);
    expect(text).not.toContain('ERROR');
    expect(lines[0]).toBe(`adapter        ${gpu.adapterInfo}`);
    expect(result.peak).toBeGreaterThan(0);
    const sections = new Set(result.rows.map((r) => r.section));
    expect([...sections].sort()).toEqual(['attention', 'bandwidth', 'gemv', 'score-update']);
    for (const r of result.rows) {
      expect(r.check.ok, `${r.name} ${r.variant} wg ${r.wg}`).toBe(true);
      expect(Number.isFinite(r.gbps) && r.gbps > 0, `${r.name} GB/s ${r.gbps}`).toBe(true);
      expect(Number.isFinite(r.ofPeak) && r.ofPeak > 0, `${r.name} of peak ${r.ofPeak}`).toBe(true);
    }
    // 2 workgroup sizes: one best per (kernel and shape, variant); printed as rows with PASS.
    const groups = new Set(result.rows.filter((r) => r.wg > 0).map((r) => `${r.name}|${r.variant}`));
    expect(result.rows.filter((r) => r.best).length).toBe(groups.size);
    const printed = lines.filter((l) => / PASS /.test(l));
    expect(printed.length).toBe(result.rows.length);
    for (const line of printed) {
      const gbps = Number(line.split(/\s+/).at(line.includes('* best') ? -5 : -2));
      expect(Number.isFinite(gbps) && gbps > 0, line).toBe(true);
    }
  });

  test('a kernel that disagrees with its reference prints ERROR, is not timed, and fails the result', async () => {
    const gpu = await testGpu();
    const lines: string[] = [];
    const result = await kernelBench(gpu, (line) => lines.push(line), {
      ...TINY,
      wgs: [64],
      sections: ['attention'],
      attentionVariants: [{ name: 'wrong scale', args: { scale: 0.5 } }],
    });
    expect(result.ok).toBe(false);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0].check.ok).toBe(false);
    expect(Number.isNaN(result.rows[0].ms)).toBe(true);
    expect(lines.some((l) => l.startsWith('paged-attention') && l.includes('ERROR'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ERROR paged-attention/);
  });
});
