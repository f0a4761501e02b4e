/**
 * Moves KV entries (K and V rows, position, policy state) between physical slots when a head whose
 * budget shrank is compacted; src/kv/compact.ts decides the moves on the host.
 */
import code from '../../shaders/kv-compact.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

/** Workgroups per grid row (a grid dimension holds at most 65535). */
export const GROUPS_X = 32768;

export interface KvCompactArgs {
  headDim: number;
  /** Moves in the list, or a function that gives it at each dispatch (a dispatch made once and reused). */
  count: number | (() => number);
  /** Workgroups per grid row; default GROUPS_X (tests lower it to cross rows). */
  groupsX?: number;
  params: Binding; // uniform {count, groups_x, _, _} u32: kvCompactParams()
  moves: Binding; // (count, 2) u32 [src, dst] physical slots, sources and destinations disjoint
  kPool: Binding; // (numSlots, headDim) f32, or f16 pairs when kvF16
  vPool: Binding; // as kPool
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 = empty
  score: Binding; // (numSlots) f32 policy score
  stamp: Binding; // (numSlots) f32 crystal's step of the last hit
  history: Binding; // (numSlots, window) f32 the policy's attention ring
  probe: Binding; // (numSlots) f32 the answer-first probe's score; any small buffer when not moved
  /** Whether the policy keeps a probe score per slot (the answer-first probe): then it moves too. */
  moveProbe: boolean;
  /** History values per slot (the policy's historyWindow; 0: none). */
  window: number;
  /** Threads per workgroup; default 32. */
  wg?: number;
}

/** The params uniform's contents for `count` moves. */
export function kvCompactParams(count: number, groupsX = GROUPS_X): Uint32Array {
  return new Uint32Array([count, groupsX, 0, 0]);
}

export function kvCompact(gpu: Gpu, a: KvCompactArgs): Dispatch {
  const groupsX = a.groupsX ?? GROUPS_X;
  const count = typeof a.count === 'number' ? () => a.count as number : a.count;
  const constants = { HEAD_DIM: a.headDim, KV_F16: a.kvF16 ? 1 : 0, WINDOW: a.window, PROBE: a.moveProbe ? 1 : 0, WG: a.wg ?? 32 };
  const buffers = [a.params, a.moves, a.kPool, a.vPool, a.slotPos, a.score, a.stamp, a.history, a.probe];
  return makeDispatch(gpu, 'kv-compact', code, constants, buffers, () => {
    const n = count();
    assert(Math.ceil(n / groupsX) <= 65535, `${n} moves do not fit one grid`);
    return [Math.min(n, groupsX), Math.ceil(n / groupsX), 1];
  });
}
