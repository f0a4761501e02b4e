/**
 * The CPU reference's paged KV cache: f64 K/V pools, the paged layout and the eviction policy's
 * per-slot state, all indexed by physical slot, so compaction moves them together
 * (kv-compact.ref.ts, the kernel's reference). 16-bit caches round K and V to the nearest half,
 * as the GPU's pack2x16float does.
 */
import { roundHalf } from '../gpu/half.ts';
import { kvCompactRef } from '../kernels/kv-compact.ref.ts';
import { createPolicyState, type PolicyState } from '../kernels/policy-state.ts';
import { compactHeads } from './compact.ts';
import { appendTokens, createKvLayout, evictSlot, type KvGeometry, type KvLayout } from './kv-layout.ts';
import type { KvStore } from './kv-store.ts';
import { grownLayout } from './rewind.ts';

export class HostKvCache implements KvStore {
  layout: KvLayout;
  readonly kPool: Float64Array; // (numSlots, headDim) keys after RoPE
  readonly vPool: Float64Array; // (numSlots, headDim)
  /** The policy's per-slot state; `keys` is the key pool (r-kv compares keys). */
  readonly state: PolicyState;
  /** Entries moved by compaction so far (tests). */
  moved = 0;
  compactions = 0;

  constructor(
    readonly geometry: KvGeometry,
    readonly historyWindow: number,
    readonly f16: boolean,
  ) {
    const slots = geometry.numPages * geometry.pageSize;
    this.layout = createKvLayout(geometry);
    this.kPool = new Float64Array(slots * geometry.headDim);
    this.vPool = new Float64Array(slots * geometry.headDim);
    this.state = createPolicyState(slots, historyWindow);
    this.state.keys = { data: this.kPool, dim: geometry.headDim };
    this.state.values = { data: this.vPool, dim: geometry.headDim };
  }

  /** Whether this cache can hold a sequence of geometry `g` for a policy with `historyWindow`. */
  fits(g: KvGeometry, historyWindow: number): boolean {
    return g.numPages === this.geometry.numPages && historyWindow === this.historyWindow;
  }

  /** A larger pool (more pages, `g`) holding this one's entries, layout and policy state where they are. */
  grownTo(g: KvGeometry): HostKvCache {
    const next = new HostKvCache(g, this.historyWindow, this.f16);
    next.layout = grownLayout(this.layout, g);
    next.kPool.set(this.kPool);
    next.vPool.set(this.vPool);
    next.state.score.set(this.state.score);
    next.state.stamp.set(this.state.stamp);
    next.state.history.set(this.state.history);
    next.state.probe.set(this.state.probe);
    next.state.rope = this.state.rope;
    return next;
  }

  /** Forgets the sequence: an empty layout and zero policy state. */
  reset(): void {
    this.layout = createKvLayout(this.geometry);
    this.state.score.fill(0);
    this.state.stamp.fill(0);
    this.state.history.fill(0);
    this.state.probe.fill(0);
    this.moved = 0;
    this.compactions = 0;
  }

  /** Reserves slots for `count` tokens at posStart..; returns the slot map (kv-layout.ts appendTokens). */
  append(posStart: number, count: number): Uint32Array {
    return appendTokens(this.layout, posStart, count);
  }

  /** Writes layer l's new K and V rows, (T, kvHeads, headDim) each, into the slots of `slotMap`. */
  write(layer: number, slotMap: Uint32Array, T: number, k: Float64Array, v: Float64Array): void {
    const g = this.geometry;
    const D = g.headDim;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < g.numKvHeads; h++) {
        const slot = slotMap[layer * g.slotMapLayerStride + t * g.numKvHeads + h];
        const src = (t * g.numKvHeads + h) * D;
        if (this.f16) {
          for (let d = 0; d < D; d++) {
            this.kPool[slot * D + d] = roundHalf(k[src + d]);
            this.vPool[slot * D + d] = roundHalf(v[src + d]);
          }
          continue;
        }
        this.kPool.set(k.subarray(src, src + D), slot * D);
        this.vPool.set(v.subarray(src, src + D), slot * D);
      }
    }
  }

  evict(layer: number, kvHead: number, logical: number): void {
    evictSlot(this.layout, layer, kvHead, logical);
  }

  compact(limits: ArrayLike<number>): void {
    const moves = compactHeads(this.layout, limits); // the layout moves slot positions itself
    if (moves.length === 0) return;
    const s = this.state;
    const window = this.historyWindow;
    kvCompactRef({ moves, headDim: this.geometry.headDim, k: this.kPool, v: this.vPool, score: s.score, stamp: s.stamp, history: s.history, window });
    this.moved += moves.length / 2;
    this.compactions++;
  }
}
