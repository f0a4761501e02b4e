/** A policy's GPU rule (policy.gpu), for the kernel tests that run a policy's branch: an error when it runs on the CPU only. */
import type { EvictionPolicy, GpuRule } from '../../src/policies/policy.ts';

export function gpuRuleOf(policy: EvictionPolicy): GpuRule {
  if ('cpuOnly' in policy.gpu) throw new Error(`${policy.id} has no GPU rule: ${policy.gpu.cpuOnly}`);
  return policy.gpu;
}
