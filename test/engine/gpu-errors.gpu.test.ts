import { describe, expect, test } from 'vitest';
import { allocateChecked, createBuffer } from '../../src/gpu/buffers.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { DeviceLostError, GpuOutOfMemoryError, NoGpuAdapterError, WebGpuUnavailableError } from '../../src/errors.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('GPU failures become named errors with instructions', () => {
  test('no WebGPU at all', async () => {
    await expect(requestGpu(null)).rejects.toThrow(WebGpuUnavailableError);
    await expect(requestGpu(null)).rejects.toThrow(/enable-unsafe-webgpu/);
  });

  test('WebGPU without an adapter', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(requestGpu(noAdapter)).rejects.toThrow(NoGpuAdapterError);
  });

  test('an allocation larger than the device allows', async () => {
    const { device } = await testGpu();
    const bytes = device.limits.maxBufferSize * 2;
    await expect(allocateChecked(device, 'KV cache', bytes, () => createBuffer(device, 'huge', bytes))).rejects.toThrow(
      GpuOutOfMemoryError,
    );
    await expect(allocateChecked(device, 'KV cache', bytes, () => createBuffer(device, 'huge', bytes))).rejects.toThrow(
      /allocating KV cache/,
    );
  });

  test('a lost device resolves `lost` with DeviceLostError', async () => {
    const gpu = await requestGpu(); // its own device: destroying it must not break other tests
    gpu.device.destroy();
    const err = await gpu.lost;
    expect(err).toBeInstanceOf(DeviceLostError);
    expect(err.message).toMatch(/transcript is kept/);
  });
});
