/**
 * Threads per workgroup for the kernels that reduce across their workgroup (rmsnorm, sample,
 * paged-attention, the policy kernels). On a GPU many threads (64-256) hide memory latency.
 * SwiftShader (WebGPU on the CPU) runs a workgroup on one CPU thread, a few invocations at a
 * time, and switches between them at every barrier, so there a 64-thread tree reduction costs far
 * more than the work it splits. Four threads were 5-20x faster per kernel on SwiftShader (the
 * kernel tests run each at the adapter's size and at GPU sizes too; figures in the commit that set this):
 * rmsnorm over 256 rows of 32 8.4 -> 0.46 ms, greedy sample over 104 logits 0.84 -> 0.03 ms,
 * h2o's select-victim 2.6 -> 0.2 ms per decode step.
 */
import type { Gpu } from './device.ts';

/** SwiftShader runs each invocation on a CPU thread: barriers and workgroup memory only cost there. */
export const isCpuAdapter = (gpu: Gpu): boolean => /swiftshader/i.test(gpu.adapterInfo);

/** A reduction kernel's workgroup on a CPU adapter. */
export const CPU_REDUCTION_WG = 4;

/** `onGpu` threads on a GPU, CPU_REDUCTION_WG on a CPU adapter. */
export function reductionWorkgroup(gpu: Gpu, onGpu: number): number {
  return isCpuAdapter(gpu) ? CPU_REDUCTION_WG : onGpu;
}
