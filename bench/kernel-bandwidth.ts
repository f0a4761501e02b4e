/**
 * The adapter's memory bandwidth, measured in the same run as the kernels it is the ceiling of:
 * (a) copyBufferToBuffer of a large buffer, bytes moved = 2 × size (read and written);
 * (b) stream-read (shaders/stream-read.wgsl) reading it once with vec4 loads, bytes = size, at
 *     every workgroup size of the sweep and three grid sizes.
 * The peak is the best of these. Both results are checked: the copy by stream-reading its
 * target, the reads against stream-read.ref.ts (exact: wrapping integer sums).
 */
import type { Gpu } from '../src/gpu/device.ts';
import { readU32 } from '../src/gpu/buffers.ts';
import { streamRead, streamReadGroups } from '../src/kernels/stream-read.ts';
import { streamReadRef } from '../src/kernels/stream-read.ref.ts';
import { Arena, compare, formatRow, markBest, rowHeader, xorshift, type Check, type KernelRow, type Timer } from './kernel-measure.ts';

export interface Bandwidth {
  peak: number; // GB/s, the best row
  peakName: string;
  rows: KernelRow[];
}

const MiB = 2 ** 20;

/**
 * stream-read's grid. A GPU wants many workgroups in flight (the default: about 8 vec4s per
 * thread); SwiftShader pays per workgroup and streams fastest with a few dozen. The peak is
 * the best of them, so each adapter gets its best grid.
 */
const GRIDS: readonly { name: string; workgroups?: number }[] = [
  { name: '8 vec4/thread' },
  { name: '1024 groups', workgroups: 1024 },
  { name: '64 groups', workgroups: 64 },
];

export async function measureBandwidth(gpu: Gpu, timer: Timer, log: (line: string) => void, opts: { bytes: number; wgs: readonly number[] }): Promise<Bandwidth> {
  const device = gpu.device;
  const limits = device.limits;
  // Whole vec4s, within what one buffer and one binding may hold.
  const size = Math.floor(Math.min(opts.bytes, limits.maxBufferSize, limits.maxStorageBufferBindingSize) / 256) * 256;
  const count = size / 16;
  const arena = new Arena(device);
  const rows: KernelRow[] = [];
  try {
    const next = xorshift(0x5eed);
    const data = new Uint32Array(size / 4);
    for (let i = 0; i < data.length; i++) data[i] = next();
    const source = arena.upload('bandwidth source', data);
    const target = arena.buffer('bandwidth target', size);
    const label = `${(size / MiB).toFixed(0)} MiB`;
    log(rowHeader(`bandwidth (${label} buffer)`));

    /** stream-read of `buffer` at `wg`, checked against the reference partial sums of `data`. */
    const readCheck = async (buffer: GPUBuffer, wg: number, workgroups?: number) => {
      const groups = streamReadGroups(count, wg, workgroups);
      const partial = arena.buffer('stream-read partial', groups * 4);
      const d = streamRead(gpu, { count, data: buffer, partial, wg, workgroups });
      const onceMs = await timer.once(d, 1);
      const check = compare(await readU32(device, partial, groups), streamReadRef(data, wg, groups), { atol: 0 });
      return { d, groups, check, onceMs };
    };

    const copyMs = await timer.copy(source, target, size);
    const copyCheck: Check = (await readCheck(target, 256)).check;
    const copyGbps = (2 * size) / copyMs / 1e6;
    const copyRow: KernelRow = { section: 'bandwidth', name: 'copyBufferToBuffer (moves 2 x size)', variant: '', wg: 0, check: copyCheck, ms: copyMs, bytes: 2 * size, gbps: copyGbps, ofPeak: NaN, best: false };
    rows.push(copyRow);

    const reads: KernelRow[] = [];
    for (const grid of GRIDS) {
      for (const wg of opts.wgs) {
        const { d, groups, check, onceMs } = await readCheck(source, wg, grid.workgroups);
        const ms = check.ok ? await timer.kernel([d], 1, onceMs) : NaN;
        const bytes = size + groups * 4;
        reads.push({ section: 'bandwidth', name: 'stream-read (reads size)', variant: grid.name, wg, check, ms, bytes, gbps: bytes / ms / 1e6, ofPeak: NaN, best: false });
      }
    }
    markBest(reads);
    rows.push(...reads);

    const ok = rows.filter((r) => r.check.ok);
    const top = ok.reduce<KernelRow | undefined>((b, r) => (!b || r.gbps > b.gbps ? r : b), undefined);
    const peak = top?.gbps ?? NaN;
    for (const r of rows) r.ofPeak = r.gbps / peak;
    for (const r of rows) log(formatRow(r));
    const peakName = top ? `${top.name.split(' ')[0]}${top.variant ? ` ${top.variant}` : ''}${top.wg ? ` wg ${top.wg}` : ''}` : 'none';
    log(`peak bandwidth ${peak.toFixed(2)} GB/s (${peakName}); copy ${copyGbps.toFixed(2)} GB/s, best stream-read ${Math.max(...reads.map((r) => (r.check.ok ? r.gbps : 0))).toFixed(2)} GB/s`);
    return { peak, peakName, rows };
  } finally {
    arena.destroy();
  }
}
