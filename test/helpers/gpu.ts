/** The test device: a real WebGPU adapter (SwiftShader in CI). No adapter is a failure, never a skip. */
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= requestGpu();
  return shared;
}
