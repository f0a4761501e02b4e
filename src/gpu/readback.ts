/**
 * A reused read-back: one mappable buffer that a step's command buffer copies its small results
 * into (the token, the victims, the watched attention), mapped once per step. No buffer is made
 * per read, so the hot loop allocates nothing after its first step.
 */
import { createBuffer } from './buffers.ts';
import { BUFFER_USAGE, MAP_MODE_READ } from './platform.ts';

const MAP_READ_DST = BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST;

export class Readback {
  readonly buffer: GPUBuffer;

  constructor(device: GPUDevice, label: string, readonly bytes: number) {
    this.buffer = createBuffer(device, label, bytes, MAP_READ_DST);
  }

  /** Encodes a copy of `bytes` of `source` (from sourceOffset) to byte `at` of the staging buffer; multiples of 4. */
  copy(encoder: GPUCommandEncoder, source: GPUBuffer, at: number, bytes: number, sourceOffset = 0): void {
    encoder.copyBufferToBuffer(source, sourceOffset, this.buffer, at, bytes);
  }

  /** After the copies were submitted: maps, copies out the bytes and unmaps. */
  async read(bytes = this.bytes): Promise<ArrayBuffer> {
    await this.buffer.mapAsync(MAP_MODE_READ, 0, Math.ceil(bytes / 4) * 4);
    const copy = this.buffer.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0);
    this.buffer.unmap();
    return copy;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
