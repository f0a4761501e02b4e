/** A hand-made head: entries i hold positions[i] in physical slot slots[i] (default: slot = i). */
import { createPolicyState, type HeadSlots, type PolicyState } from '../../src/policies/policy.ts';
import { lowestCandidate, markCandidates } from '../../src/kernels/select.ts';
import type { EvictionPolicy } from '../../src/policies/policy.ts';
import type { BudgetSpec } from '../../src/kv/budget.ts';
import { HostKvCache } from '../../src/kv/host-kv-cache.ts';
import type { KvGeometry } from '../../src/kv/kv-layout.ts';
import { createCpuPolicyRunner } from '../../src/policies/cpu-chooser.ts';
import { createEvictionDriver } from '../../src/policies/eviction-driver.ts';

export function makeHead(positions: number[], slots = positions.map((_, i) => i)): HeadSlots {
  return { layer: 0, kvHead: 0, slots: Int32Array.from(slots), positions: Int32Array.from(positions), length: positions.length };
}

export function makeState(policy: EvictionPolicy, numSlots = 64): PolicyState {
  return createPolicyState(numSlots, policy.historyWindow);
}

/** The position select.ts would evict from this head at step `position`. */
export function victimPosition(policy: EvictionPolicy, state: PolicyState, head: HeadSlots, position: number, protectBelow = 0): number {
  const scores = new Float64Array(head.length);
  const candidate = new Uint8Array(head.length);
  policy.score(state, head, position, scores);
  markCandidates(head, policy.sinks, policy.recent, protectBelow, candidate);
  return head.positions[lowestCandidate(head, scores, candidate, policy.nearTie)];
}

/** A CPU-reference eviction over a hand-made geometry: the cache, the policy runner and the driver. */
export function hostEviction(policy: EvictionPolicy, geometry: KvGeometry, spec: BudgetSpec | null, numHeads: number) {
  const cache = new HostKvCache(geometry, policy.historyWindow, false);
  const runner = createCpuPolicyRunner(policy, cache, numHeads);
  const driver = createEvictionDriver(policy, spec ? { policy: policy.id, ...spec } : undefined, cache, runner);
  return { cache, runner, driver };
}
