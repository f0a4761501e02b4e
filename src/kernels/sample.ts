/** The next token from a row of logits: greedy, or temperature + top-p with a host-drawn u. */
import code from '../../shaders/sample.wgsl?raw';
import workgroupArgmax from '../../shaders/workgroup-argmax.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { SampleSettings } from './sample.ref.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

export const SAMPLE_PARAMS_BYTES = 16;

export interface SampleArgs {
  vocab: number;
  params: Binding; // uniform SampleParams {temperature, top_p, u, _pad} f32, see writeSampleParams
  logits: Binding; // (vocab) one row
  token: Binding; // (1) u32 out: the chosen token id
  /** Threads in the one workgroup, a power of two (benchmarks sweep it); default 256 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function sample(gpu: Gpu, a: SampleArgs): Dispatch {
  const wg = a.wg ?? reductionWorkgroup(gpu, 256);
  assert((wg & (wg - 1)) === 0, `workgroup size ${wg} is not a power of two`);
  return makeDispatch(gpu, 'sample', `${code}\n${workgroupArgmax}`, { VOCAB: a.vocab, WG: wg }, [a.params, a.logits, a.token], () => [1, 1, 1]);
}

/** Writes the uniform read by sample.wgsl; temperature <= 0 means greedy. */
export function writeSampleParams(device: GPUDevice, params: GPUBuffer, s: SampleSettings, offset = 0): void {
  device.queue.writeBuffer(params, offset, new Float32Array([s.temperature, s.topP, s.u, 0]));
}
