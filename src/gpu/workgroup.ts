/**
 * Threads per workgroup for the kernels that reduce across their workgroup (rmsnorm, sample,
 * paged-attention, the policy kernels), and gemv's lanes, by the device's code paths
 * (device.ts CodePaths). On a GPU many threads (64-256) hide memory latency. SwiftShader (WebGPU
 * on the CPU) runs a workgroup on one CPU thread, a few invocations at a time, and switches
 * between them at every barrier, so there a 64-thread tree reduction costs far more than the work
 * it splits. Four threads were 5-20x faster per kernel on SwiftShader (the kernel tests run each
 * at the adapter's size and at GPU sizes too; figures in the commit that set this): rmsnorm over
 * 256 rows of 32 8.4 -> 0.46 ms, greedy sample over 104 logits 0.84 -> 0.03 ms, h2o's
 * select-victim 2.6 -> 0.2 ms per decode step. A device forced to the GPU's paths
 * (withCodePaths, requestGpu's codePaths) takes the GPU sizes on SwiftShader too.
 */
import type { Gpu } from './device.ts';

/** Whether the kernels take a CPU adapter's code paths (SwiftShader, unless forced to a GPU's). */
export const isCpuAdapter = (gpu: Gpu): boolean => gpu.codePaths === 'cpu-adapter';

/** A reduction kernel's workgroup on a CPU adapter. */
export const CPU_REDUCTION_WG = 4;

/** `onGpu` threads on a GPU's code paths, CPU_REDUCTION_WG on a CPU adapter's. */
export function reductionWorkgroup(gpu: Gpu, onGpu: number): number {
  return isCpuAdapter(gpu) ? CPU_REDUCTION_WG : onGpu;
}
