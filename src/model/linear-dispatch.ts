/**
 * A Linear as gemv / embed dispatches, split into row ranges when it is larger than one storage
 * binding may be (maxStorageBufferBindingSize: 128 MiB by default, 1-4 GiB on most adapters; a
 * 152k x 2048 f16 embedding is 594 MiB). Each range binds its rows of the weight, scales and
 * bias at offsets that are multiples of 256 bytes (minStorageBufferOffsetAlignment), so a range
 * holds a multiple of `granularity` rows.
 */
import { GpuLimitError } from '../errors.ts';
import type { Binding, Dispatch } from '../gpu/kernel.ts';
import type { Gpu } from '../gpu/device.ts';
import { embed } from '../kernels/embed.ts';
import { gemv, type GemvArgs, type GemvWeight } from '../kernels/gemv.ts';
import type { GpuLinear } from './gpu-weights.ts';
import { q4Layout } from './linear.ts';

const OFFSET_ALIGN = 256;

interface RowBinding {
  buffer: GPUBuffer;
  rowBytes: number;
}

function bindings(w: GpuLinear): { data: RowBinding; scales?: RowBinding; bias?: RowBinding } {
  const { groupsPerRow, wordsPerRow } = q4Layout(w.cols);
  const dataRow = w.format === 'f32' ? w.cols * 4 : w.format === 'f16' || w.format === 'bf16' ? w.cols * 2 : wordsPerRow * 4;
  return {
    data: { buffer: w.data as GPUBuffer, rowBytes: dataRow },
    scales: w.scales ? { buffer: w.scales as GPUBuffer, rowBytes: groupsPerRow * (w.format === 'q4f32' ? 4 : 2) } : undefined,
    bias: w.bias ? { buffer: w.bias, rowBytes: 4 } : undefined,
  };
}

/**
 * Row ranges [first, first + count) that each fit `maxBindingBytes`; one range when the whole
 * Linear fits. `pairs`: every range holds whole pairs of rows (a gated gate_up).
 */
export function rowRanges(w: GpuLinear, maxBindingBytes: number, label: string, pairs = false): { first: number; count: number }[] {
  const b = bindings(w);
  const parts = [b.data, b.scales, b.bias].filter((p): p is RowBinding => p !== undefined);
  const widest = Math.max(...parts.map((p) => p.rowBytes));
  if (widest * w.rows <= maxBindingBytes) return [{ first: 0, count: w.rows }];
  const gcd = (a: number, c: number): number => (c === 0 ? a : gcd(c, a % c));
  const aligned = Math.max(...parts.map((p) => OFFSET_ALIGN / gcd(OFFSET_ALIGN, p.rowBytes))); // a power of two
  const granularity = pairs ? Math.max(aligned, 2) : aligned;
  const perRange = Math.floor(maxBindingBytes / widest / granularity) * granularity;
  if (perRange === 0) throw new GpuLimitError(`maxStorageBufferBindingSize (for ${label})`, widest * granularity, maxBindingBytes);
  const ranges = [];
  for (let first = 0; first < w.rows; first += perRange) ranges.push({ first, count: Math.min(perRange, w.rows - first) });
  return ranges;
}

function slice(p: RowBinding, first: number, count: number): GPUBufferBinding {
  const offset = first * p.rowBytes;
  const size = Math.min(Math.ceil((count * p.rowBytes) / 4) * 4, p.buffer.size - offset); // whole words
  return { buffer: p.buffer, offset, size };
}

function rangeWeight(w: GpuLinear, first: number, count: number): { weight: GemvWeight; bias?: Binding } {
  const b = bindings(w);
  return {
    weight: { format: w.format, data: slice(b.data, first, count), scales: b.scales && slice(b.scales, first, count) },
    bias: b.bias && slice(b.bias, first, count),
  };
}

/**
 * x · Wᵀ (+ bias) for the whole Linear, as one dispatch per binding-sized row range; gated (the
 * interleaved gate_up): silu(gate) * up, one output per pair of rows.
 */
export function linearDispatches(gpu: Gpu, w: GpuLinear, a: Omit<GemvArgs, 'n' | 'k' | 'weight' | 'bias'>, maxBindingBytes: number, label: string): Dispatch[] {
  const perOutput = a.gated ? 2 : 1;
  const ranges = rowRanges(w, maxBindingBytes, label, a.gated);
  if (ranges.length === 1) return [gemv(gpu, { ...a, n: w.rows / perOutput, k: w.cols, weight: w, bias: w.bias })];
  return ranges.map(({ first, count }) =>
    gemv(gpu, { ...a, n: count / perOutput, k: w.cols, ...rangeWeight(w, first, count), rowOffset: first / perOutput, outWidth: w.rows / perOutput }),
  );
}

/** The embedding lookup over the whole table, one dispatch per binding-sized row range. */
export function embedDispatches(gpu: Gpu, table: GpuLinear, tokens: Binding, out: Binding, maxBindingBytes: number): Dispatch[] {
  const ranges = rowRanges(table, maxBindingBytes, 'the embedding');
  if (ranges.length === 1) return [embed(gpu, { hidden: table.cols, tokens, table, out })];
  return ranges.map((rows) => embed(gpu, { hidden: table.cols, tokens, table: rangeWeight(table, rows.first, rows.count).weight, out, rows }));
}
