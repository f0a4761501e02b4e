/**
 * crystal's budget re-division on the GPU engine (src/policies/evictor.ts rebalance, step for
 * step): every R decode steps, once every head is full, head-load counts each head's live entries
 * on the GPU and the loads come back (the only extra read-back, on those steps only);
 * reallocateBudgets re-divides the budgets on the host exactly as the CPU reference does (the
 * counts are exact, so the budgets are equal); the caller then evicts every head down to its new
 * limit with select-victim rounds, and compact() gathers the heads whose budget shrank with
 * kv-compact, returning their pages to the pool for the heads whose budget grew.
 */
import { createBuffer, createBufferFrom, readBuffer, UNIFORM } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { runDispatches } from '../gpu/kernel.ts';
import { headLoad } from '../kernels/head-load.ts';
import { kvCompact, kvCompactParams } from '../kernels/kv-compact.ts';
import type { BudgetSpec } from '../kv/budget.ts';
import { compactHeads } from '../kv/compact.ts';
import { unstrideHeads } from '../kv/kv-layout.ts';
import type { KvCache } from '../kv/kv-cache.ts';
import type { BudgetChange } from '../policies/evictor.ts';
import type { EvictionPolicy } from '../policies/policy.ts';
import { budgetFloor, budgetsFull, reallocateBudgets } from '../policies/reallocate.ts';

export interface GpuRebalance {
  /** Whether the step writing the token at `position` re-divides: every R decode steps, once every head holds its limit. */
  due(position: number, promptLength: number, headLimits: Uint32Array): boolean;
  /**
   * Reads the heads' loads at `position` and writes the new limits into `headLimits` (layers, 64);
   * the caller then evicts every head that is over.
   */
  divide(position: number, promptLength: number, headLimits: Uint32Array): Promise<void>;
  /** Compacts every head holding more pages than its limit needs, on the GPU and in the layout. */
  compact(headLimits: Uint32Array): Promise<void>;
  rebalances: BudgetChange[];
  destroy(): void;
}

export function createGpuRebalance(
  gpu: Gpu,
  kv: KvCache,
  policy: EvictionPolicy & { rebalance: { period: number; floor: number } },
  spec: BudgetSpec,
  state: {
    params: GPUBuffer; // select-victim's uniform {protect_below, t, _, _}, written by the caller
    score: GPUBuffer; // (numSlots) f32 CRF
    stamp: GPUBuffer; // (numSlots) f32 step of the last hit
  },
  stride: number, // u32s between layers in headLimits
): GpuRebalance {
  const device = gpu.device;
  const g = kv.geometry;
  const heads = g.numLayers * g.numKvHeads;
  const loads = createBuffer(device, 'head loads', heads * 4); // (layers, kvHeads) f32
  const load = headLoad(gpu, {
    ...kv.modelTables(),
    window: policy.rebalance.period,
    params: state.params,
    stamp: state.stamp,
    loads,
  });
  const budgets = new Int32Array(heads).fill(spec.budget); // (layers * kvHeads)
  const floor = budgetFloor(policy.rebalance.floor, spec.budget, policy.recent);
  const rebalances: BudgetChange[] = [];

  /** (layers * kvHeads) limits from the (layers, stride) layout select-victim reads. */
  const packed = (headLimits: Uint32Array) => unstrideHeads(headLimits, g.numLayers, g.numKvHeads, stride);

  return {
    due(position, promptLength, headLimits) {
      const step = position - promptLength;
      return step > 0 && step % policy.rebalance.period === 0 && budgetsFull(kv.layout.count, packed(headLimits));
    },
    async divide(position, promptLength, headLimits) {
      const protectBelow = spec.mode === 'think' ? promptLength : 0;
      device.queue.writeBuffer(state.params, 0, new Uint32Array([protectBelow, position, 0, 0]));
      await runDispatches(gpu, [load], 1);
      const measured = Float64Array.from(new Float32Array(await readBuffer(device, loads, heads * 4)));
      budgets.set(reallocateBudgets(measured, budgets, g.numLayers, g.numKvHeads, floor));
      for (let i = 0; i < heads; i++) headLimits[Math.floor(i / g.numKvHeads) * stride + (i % g.numKvHeads)] = budgets[i] + protectBelow;
      rebalances.push({ at: position, budgets: budgets.slice() });
    },
    async compact(headLimits) {
      const moves = compactHeads(kv.layout, packed(headLimits));
      kv.uploadTables(); // the shrunk heads' tables and slot counts
      if (moves.length === 0) return;
      const count = moves.length / 2;
      const movesBuffer = createBufferFrom(device, 'compact moves', moves);
      const params = createBufferFrom(device, 'compact params', kvCompactParams(count), UNIFORM);
      const d = kvCompact(gpu, {
        headDim: g.headDim,
        count,
        params,
        moves: movesBuffer,
        kPool: kv.kPool,
        vPool: kv.vPool,
        kvF16: kv.f16,
        slotPos: kv.slotPos,
        score: state.score,
        stamp: state.stamp,
      });
      await runDispatches(gpu, [d], 1);
      movesBuffer.destroy();
      params.destroy();
    },
    rebalances,
    destroy() {
      loads.destroy();
    },
  };
}
