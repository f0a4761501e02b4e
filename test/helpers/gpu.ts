/**
 * The test device: a real WebGPU adapter (SwiftShader in CI). No adapter is a failure, never a
 * skip. The environment switch VITE_CRYSTAL_CODE_PATHS=discrete-gpu makes every test that takes
 * this device run a discrete GPU's code paths (gpu/workgroup.ts) on whatever adapter it has.
 */
import { requestGpu, withCodePaths, type Gpu } from '../../src/gpu/device.ts';

const switched = (import.meta as { env?: Record<string, string | undefined> }).env?.VITE_CRYSTAL_CODE_PATHS === 'discrete-gpu';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= requestGpu(undefined, { codePaths: switched ? 'discrete-gpu' : 'adapter' });
  return shared;
}

/** The test device taking a discrete GPU's code paths (the same device: its own pipelines). */
export async function discreteGpu(): Promise<Gpu> {
  return withCodePaths(await testGpu(), 'discrete-gpu');
}
