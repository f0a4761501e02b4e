/**
 * Per-kernel GPU time of a list of dispatches: each dispatch gets its own compute pass with
 * timestamp writes. Falls back to wall time per submitted dispatch where the adapter has no
 * timestamp-query. For benchmarks only; the engine's hot path never uses this.
 */
import { BUFFER_USAGE, MAP_MODE_READ } from './platform.ts';
import type { Gpu } from './device.ts';
import { encodeDispatch, type Dispatch } from './kernel.ts';

export interface KernelTime {
  label: string;
  ms: number;
}

export async function timeDispatches(gpu: Gpu, dispatches: readonly Dispatch[], rows: number): Promise<KernelTime[]> {
  const device = gpu.device;
  if (!gpu.hasTimestamps) {
    const out: KernelTime[] = [];
    for (const d of dispatches) {
      const t0 = performance.now();
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeDispatch(pass, d, rows);
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      out.push({ label: d.label, ms: performance.now() - t0 });
    }
    return out;
  }
  const count = dispatches.length * 2;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolve = device.createBuffer({ size: count * 8, usage: BUFFER_USAGE.QUERY_RESOLVE | BUFFER_USAGE.COPY_SRC });
  const read = device.createBuffer({ size: count * 8, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
  const encoder = device.createCommandEncoder();
  dispatches.forEach((d, i) => {
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    encodeDispatch(pass, d, rows);
    pass.end();
  });
  encoder.resolveQuerySet(querySet, 0, count, resolve, 0);
  encoder.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(MAP_MODE_READ);
  const ns = new BigInt64Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [resolve, read]) b.destroy();
  querySet.destroy();
  return dispatches.map((d, i) => ({ label: d.label, ms: Number(ns[2 * i + 1] - ns[2 * i]) / 1e6 }));
}
