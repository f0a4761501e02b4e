/**
 * The Node path: a kernel and a short generation on Dawn (the `webgpu` package), in plain Node.
 * On this project's machines the adapter is Chromium's SwiftShader Vulkan driver (no GPU): Dawn
 * needs the Vulkan loader (libvulkan1, which .ci/run installs). No adapter is a failure, never a skip.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { dawnGpu } from '../../scripts/lib/dawn-gpu.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { rmsnorm } from '../../src/kernels/rmsnorm.ts';
import { rmsnormRef } from '../../src/kernels/rmsnorm.ref.ts';
import { checkGoldenCase } from '../helpers/golden-check.ts';
import type { GoldenCase } from '../helpers/golden.ts';
import { expectClose, randomArray } from '../helpers/close.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

const MODEL = 'public/models/tiny-reasoner-qwen3';

describe('Node on Dawn', async () => {
  const { gpu: api, via } = await dawnGpu();
  const gpu: Gpu = await requestGpu(api);
  console.log(`[Dawn] ${gpu.adapterInfo}; ${via}`);
  afterAll(() => gpu.device.destroy());

  test('rmsnorm matches its reference', async () => {
    const rows = 6;
    const dim = 128;
    const x = randomArray(rows * dim, 11, 3);
    const weight = randomArray(dim, 12);
    const out = createBuffer(gpu.device, 'out', rows * dim * 4);
    const d = rmsnorm(gpu, { dim, eps: 1e-6, rowsPerToken: 1, x: createBufferFrom(gpu.device, 'x', x), weight: createBufferFrom(gpu.device, 'w', weight), out });
    await runDispatches(gpu, [d], rows);
    const got = await readF32(gpu.device, out, rows * dim);
    expectClose('rmsnorm on Dawn', got, rmsnormRef(x, weight, rows, dim, 1e-6), { atol: 1e-5, rtol: 1e-5 });
  });

  test('the GPU engine reproduces a golden.json generation', async () => {
    const model = await loadModelFromDir(MODEL);
    const backend = await createGpuBackend(gpu, model, { maxStepTokens: 32 });
    const cases: GoldenCase[] = JSON.parse(readFileSync(`${MODEL}/golden.json`, 'utf8')).cases;
    // The shortest case: every generated id, every argmax and the recorded logits (5e-4, as in the browser test).
    const c = [...cases].sort((a, b) => a.generated_ids.length - b.generated_ids.length)[0];
    const maxDiff = await checkGoldenCase(backend, c, 5e-4);
    expect(maxDiff).toBeLessThan(5e-4);
    backend.dispose();
  });
});
