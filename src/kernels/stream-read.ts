/**
 * The streaming-read bandwidth probe: reads a buffer once with vec4 loads and reduces it to one
 * wrapping u32 sum per workgroup. Not part of the model: the benchmark times it to learn how
 * fast this adapter streams memory, the ceiling every memory-bound kernel is measured against.
 */
import code from '../../shaders/stream-read.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

/** vec4s each thread reads when the grid is sized by default: enough loads per thread to hide latency. */
const VEC4S_PER_THREAD = 8;
const MAX_GROUPS = 65535; // the WebGPU default maxComputeWorkgroupsPerDimension

export interface StreamReadArgs {
  count: number; // vec4s to read
  data: Binding; // (count) vec4<u32>, 16 * count bytes
  partial: Binding; // (streamReadGroups(count, wg, workgroups)) u32
  /** Workgroups in the grid; default streamReadGroups(count, wg). */
  workgroups?: number;
  /** Threads per workgroup, a power of two (benchmarks sweep it); default 256. */
  wg?: number;
}

/** The grid: `workgroups` if given, else about VEC4S_PER_THREAD vec4s per thread, at most 65535. */
export function streamReadGroups(count: number, wg = 256, workgroups?: number): number {
  return workgroups ?? Math.max(1, Math.min(MAX_GROUPS, Math.ceil(count / (wg * VEC4S_PER_THREAD))));
}

export function streamRead(gpu: Gpu, a: StreamReadArgs): Dispatch {
  const wg = a.wg ?? 256;
  const groups = streamReadGroups(a.count, wg, a.workgroups);
  assert((wg & (wg - 1)) === 0, `workgroup size ${wg} is not a power of two`);
  assert(a.count >= 1 && a.count < 2 ** 32 - wg * groups, `count ${a.count} vec4s is out of range`);
  assert(groups <= MAX_GROUPS, `${groups} workgroups exceed ${MAX_GROUPS}`);
  return makeDispatch(gpu, 'stream-read', code, { COUNT: a.count, GROUPS: groups, WG: wg }, [a.data, a.partial], () => [groups, 1, 1]);
}
