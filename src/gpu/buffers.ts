/**
 * Buffer creation inside an out-of-memory error scope, and read-back. Every buffer carries a
 * label so an OOM error names what could not be allocated.
 */
import { GpuOutOfMemoryError } from '../errors.ts';
import { track } from './ledger.ts';
import { BUFFER_USAGE, MAP_MODE_READ } from './platform.ts';

const { COPY_SRC, COPY_DST, MAP_READ } = BUFFER_USAGE;
export const STORAGE = BUFFER_USAGE.STORAGE | COPY_DST | COPY_SRC;
export const UNIFORM = BUFFER_USAGE.UNIFORM | COPY_DST;
/** A buffer that is only copied into and out of (a read-back source). */
export const COPY = COPY_SRC | COPY_DST;

/** Creates a buffer; byte sizes are rounded up to 16 so any f32/u32 view and vec4 read fits. */
export function createBuffer(
  device: GPUDevice,
  label: string,
  bytes: number,
  usage: number = STORAGE,
): GPUBuffer {
  return track(device, device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage }));
}

/** Creates a buffer holding `data` (16-bit arrays of odd length are padded to whole words). */
export function createBufferFrom(
  device: GPUDevice,
  label: string,
  data: Float32Array | Uint32Array | Int32Array | Uint16Array,
  usage: number = STORAGE,
): GPUBuffer {
  const buffer = createBuffer(device, label, data.byteLength, usage);
  // writeBuffer takes whole words only.
  const bytes = data.byteLength % 4 === 0 ? data : (() => {
    const padded = new Uint16Array(data.length + 1);
    padded.set(data as Uint16Array);
    return padded;
  })();
  device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer;
}

/**
 * Runs `allocate` inside an out-of-memory error scope and throws GpuOutOfMemoryError if any
 * allocation in it failed. Use around the large, once-per-model allocations.
 */
export async function allocateChecked<T>(
  device: GPUDevice,
  label: string,
  bytes: number,
  allocate: () => T,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const result = allocate();
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom || validation) throw new GpuOutOfMemoryError(label, bytes);
  return result;
}

/**
 * allocateChecked for code that cannot wait (a backend's synchronous reset): the buffers exist on
 * return; `checked` rejects with GpuOutOfMemoryError if any allocation failed, and is awaited
 * before the buffers are first used. Both scopes are popped at once, so later calls are not caught.
 */
export function allocateNow<T>(device: GPUDevice, label: string, bytes: number, allocate: () => T): { value: T; checked: Promise<void> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const value = allocate();
  const validation = device.popErrorScope();
  const oom = device.popErrorScope();
  const checked = Promise.all([validation, oom]).then(([v, o]) => {
    if (v || o) throw new GpuOutOfMemoryError(label, bytes);
  });
  checked.catch(() => {}); // handled where it is awaited; no unhandled rejection if it never is
  return { value, checked };
}

/** Copies `bytes` of `source` into a mappable buffer and returns them. */
export async function readBuffer(device: GPUDevice, source: GPUBuffer, bytes = source.size, offset = 0): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, offset, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_MODE_READ);
  const copy = staging.getMappedRange().slice(0);
  staging.destroy();
  return copy;
}

export async function readF32(device: GPUDevice, source: GPUBuffer, count: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, source, count * 4));
}

export async function readU32(device: GPUDevice, source: GPUBuffer, count: number): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(device, source, count * 4));
}
