/**
 * The GPU side of the paged KV cache: the K/V page pools shared by all layers and heads, each
 * slot's position (the valid mask), the eviction policy's per-slot state, and the packed tables
 * of kv-layout.ts uploaded each step. It alone writes slot positions from the host (an evicted
 * slot that the next token does not refill is marked empty before the next dispatch), and its
 * compaction moves K, V, positions and the policy state together with one reused dispatch.
 * One of the few classes: it owns GPU buffers' lifetimes.
 */
import { assert } from '../assert.ts';
import { GpuLimitError } from '../errors.ts';
import { allocateNow, createBuffer, UNIFORM } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { encodeDispatch, type Dispatch } from '../gpu/kernel.ts';
import { kvCompact, kvCompactParams } from '../kernels/kv-compact.ts';
import type { ModelTables } from '../kernels/model-tables.ts';
import { compactHeads } from './compact.ts';
import { appendTokens, createKvLayout, evictSlot, kvBytes, physicalSlot, type KvGeometry, type KvLayout } from './kv-layout.ts';
import type { KvStore } from './kv-store.ts';
import { grownLayout } from './rewind.ts';

/** The policy's per-slot state on the GPU (score-update writes it, select-victim reads it). */
export interface PolicyStateBuffers {
  score: GPUBuffer; // (numSlots) f32
  stamp: GPUBuffer; // (numSlots) f32
  history: GPUBuffer; // (numSlots, historyWindow) f32; 16 bytes when the window is 0
  probe: GPUBuffer; // (numSlots) f32 the answer-first probe's score (probe-fold writes it); 16 bytes without a probe
}

/**
 * What an evicting policy keeps beside the entries: `historyWindow` attention values per slot,
 * and, for a policy with the answer-first probe, room for up to `probeRows` probe rows' K/V per
 * step: scratch slots after the pages, (probeRows, kvHeads) of them, in no head's table.
 */
export interface EvictionState {
  historyWindow: number;
  probeRows?: number;
}

const EMPTY = new Int32Array([-1]);

/** What an evicting policy keeps beside the entries; a probe's rows share the step's tile with its tokens, so at most maxStepTokens - 1 of them. */
export function evictionStateOf(policy: { historyWindow: number; probe?: object }, maxStepTokens: number): EvictionState {
  return { historyWindow: policy.historyWindow, probeRows: policy.probe ? maxStepTokens - 1 : 0 };
}

/** Scratch slots after the pages for a policy's probe rows (EvictionState). */
function scratchSlots(g: KvGeometry, eviction: EvictionState | null): number {
  return (eviction?.probeRows ?? 0) * g.numKvHeads;
}

export class KvCache implements KvStore {
  layout: KvLayout;
  /** Physical slots freed since the last upload; those still empty then are marked -1 on the GPU. */
  private freed: number[] = [];
  private readonly compactMoves: GPUBuffer; // (numSlots, 2) u32 [from, to]
  private readonly compactParams: GPUBuffer; // uniform {count, groups_x, _, _}
  private moveCount = 0;
  private readonly compactDispatch: Dispatch;

  private constructor(
    private readonly gpu: Gpu,
    readonly geometry: KvGeometry,
    readonly historyWindow: number,
    readonly evicting: boolean,
    /** Probe rows a step may carry (their K/V in scratch slots after the pages); 0: no probe. */
    readonly probeRows: number,
    readonly kPool: GPUBuffer, // (numPages * pageSize + scratch, headDim) f32 or f16 pairs, keys after RoPE
    readonly vPool: GPUBuffer, // (numPages * pageSize + scratch, headDim)
    readonly slotPos: GPUBuffer, // (numPages * pageSize + scratch) i32, -1 = empty
    readonly blockTables: GPUBuffer, // (layers, tableLayerStride) u32
    readonly headSlots: GPUBuffer, // (layers, headSlotsLayerStride) u32
    readonly slotMap: GPUBuffer, // (layers, slotMapLayerStride) u32
    readonly state: PolicyStateBuffers,
  ) {
    this.layout = createKvLayout(geometry);
    const slots = geometry.numPages * geometry.pageSize;
    const device = gpu.device;
    this.compactMoves = createBuffer(device, 'compact moves', evicting ? slots * 8 : 16);
    this.compactParams = createBuffer(device, 'compact params', 16, UNIFORM);
    this.compactDispatch = kvCompact(gpu, {
      headDim: geometry.headDim,
      count: () => this.moveCount,
      params: this.compactParams,
      moves: this.compactMoves,
      kPool,
      vPool,
      kvF16: this.f16,
      slotPos,
      score: state.score,
      stamp: state.stamp,
      history: state.history,
      probe: state.probe, // 16 bytes, never touched, without a probe
      moveProbe: probeRows > 0,
      window: historyWindow,
    });
  }

  /** The scratch slot of probe row j (0 = the first after the real rows) and KV head g: every layer's, in turn. */
  scratchSlot(j: number, g: number): number {
    return this.geometry.numPages * this.geometry.pageSize + j * this.geometry.numKvHeads + g;
  }

  /**
   * Bytes allocate() creates for `g`: K and V pools, slot positions and the tables, and when
   * evicting the policy state (score, stamp, history) and the compaction's move list.
   */
  static bytesFor(g: KvGeometry, eviction: EvictionState | null = null): number {
    const slots = g.numPages * g.pageSize;
    const pooled = slots + scratchSlots(g, eviction);
    const tables = 4 * g.numLayers * (g.tableLayerStride + g.headSlotsLayerStride + g.slotMapLayerStride);
    const probe = eviction?.probeRows ? slots * 4 : 0;
    const state = eviction ? slots * 4 * (2 + eviction.historyWindow) + slots * 8 + probe : 0;
    return 2 * pooled * g.headDim * g.kvValueBytes + pooled * 4 + tables + state;
  }

  /**
   * Creates the buffers for `g` (context-sized for the full cache, budget-sized under a budget:
   * model/forward-backend.ts sequenceGeometry) and, under eviction, a policy keeping `historyWindow`
   * values per slot (null: the full cache, no policy state); `checked` rejects if they could not
   * be allocated.
   */
  static allocate(gpu: Gpu, g: KvGeometry, eviction: EvictionState | null = null): { cache: KvCache; checked: Promise<void> } {
    const device = gpu.device;
    const slots = g.numPages * g.pageSize;
    const pooled = slots + scratchSlots(g, eviction);
    const poolBytes = pooled * g.headDim * g.kvValueBytes;
    // Every layer's K (and V) is one binding: past the limit, only a smaller context or budget helps.
    if (poolBytes > device.limits.maxStorageBufferBindingSize) {
      throw new GpuLimitError('maxStorageBufferBindingSize (for the KV cache; choose a shorter context or a smaller budget)', poolBytes, device.limits.maxStorageBufferBindingSize);
    }
    const stateSlots = eviction ? slots : 0;
    const historyWindow = eviction?.historyWindow ?? 0;
    const { value: cache, checked } = allocateNow(device, 'KV cache', KvCache.bytesFor(g, eviction), () => {
      return new KvCache(
        gpu,
        g,
        historyWindow,
        eviction !== null,
        eviction?.probeRows ?? 0,
        createBuffer(device, 'kPool', poolBytes),
        createBuffer(device, 'vPool', poolBytes),
        createBuffer(device, 'slotPos', pooled * 4),
        createBuffer(device, 'blockTables', g.numLayers * g.tableLayerStride * 4),
        createBuffer(device, 'headSlots', g.numLayers * g.headSlotsLayerStride * 4),
        createBuffer(device, 'slotMap', g.numLayers * g.slotMapLayerStride * 4),
        {
          score: createBuffer(device, 'policy score', stateSlots * 4),
          stamp: createBuffer(device, 'policy stamp', stateSlots * 4),
          history: createBuffer(device, 'policy history', stateSlots * historyWindow * 4),
          probe: createBuffer(device, 'probe score', eviction?.probeRows ? slots * 4 : 16),
        },
      );
    });
    cache.reset();
    return { cache, checked };
  }

  /**
   * A larger pool (more pages, `g`) holding this cache's entries, layout and policy state where
   * they are (one copy per buffer, in queue order before the next step); this cache is destroyed.
   */
  grownTo(g: KvGeometry): { cache: KvCache; checked: Promise<void> } {
    const eviction = this.evicting ? { historyWindow: this.historyWindow, probeRows: this.probeRows } : null;
    const grown = KvCache.allocate(this.gpu, g, eviction);
    const next = grown.cache;
    const device = this.gpu.device;
    const encoder = device.createCommandEncoder({ label: 'kv-grow' });
    const pairs: [GPUBuffer, GPUBuffer][] = [
      [this.kPool, next.kPool],
      [this.vPool, next.vPool],
      [this.state.score, next.state.score],
      [this.state.stamp, next.state.stamp],
      [this.state.history, next.state.history],
      [this.state.probe, next.state.probe],
    ];
    for (const [from, to] of pairs) encoder.copyBufferToBuffer(from, 0, to, 0, Math.min(from.size, to.size));
    device.queue.submit([encoder.finish()]);
    next.layout = grownLayout(this.layout, g);
    next.freed = this.freed;
    device.queue.writeBuffer(next.slotPos, 0, next.layout.slotPos); // the host mirror is what the kernels wrote
    this.destroy();
    return grown;
  }

  /** Whether this cache can hold a sequence of geometry `g` under `eviction` (as allocate takes it). */
  fits(g: KvGeometry, eviction: EvictionState | null): boolean {
    return (
      g.numPages === this.geometry.numPages &&
      (eviction === null) === !this.evicting &&
      (eviction?.historyWindow ?? 0) === this.historyWindow &&
      (eviction?.probeRows ?? 0) === this.probeRows
    );
  }

  /** K and V are f16 pairs (16-bit models); the kernels take it as KV_F16. */
  get f16(): boolean {
    return this.geometry.kvValueBytes === 2;
  }

  /** Bytes held by K and V (what a budget saves). */
  get kvBytes(): number {
    return kvBytes(this.geometry);
  }

  reset(): void {
    this.layout = createKvLayout(this.geometry);
    this.freed = [];
    this.gpu.device.queue.writeBuffer(this.slotPos, 0, this.layout.slotPos);
  }

  /**
   * Reserves slots for `count` tokens at posStart.. and uploads the tables the kernels read;
   * `probeRows` probe rows after them write their K/V to the scratch slots (never kept).
   */
  append(posStart: number, count: number, probeRows = 0): Uint32Array {
    assert(probeRows <= this.probeRows, `${probeRows} probe rows, room for ${this.probeRows}`);
    const slotMap = appendTokens(this.layout, posStart, count);
    const g = this.geometry;
    for (let l = 0; l < g.numLayers; l++) {
      for (let j = 0; j < probeRows; j++) for (let h = 0; h < g.numKvHeads; h++) slotMap[l * g.slotMapLayerStride + (count + j) * g.numKvHeads + h] = this.scratchSlot(j, h);
    }
    this.gpu.device.queue.writeBuffer(this.slotMap, 0, slotMap);
    this.flush();
    return slotMap;
  }

  evict(layer: number, kvHead: number, logical: number): void {
    this.freed.push(physicalSlot(this.layout, layer, kvHead, logical));
    evictSlot(this.layout, layer, kvHead, logical);
  }

  /**
   * Uploads the block tables and slot counts, and marks the freed slots that are still empty
   * (rope-append writes the positions of the slots it refills): before any kernel reads them.
   */
  flush(): void {
    const q = this.gpu.device.queue;
    q.writeBuffer(this.blockTables, 0, this.layout.blockTables);
    q.writeBuffer(this.headSlots, 0, this.layout.headSlots);
    for (const slot of this.freed) if (this.layout.slotPos[slot] < 0) q.writeBuffer(this.slotPos, slot * 4, EMPTY);
    this.freed = [];
  }

  compact(limits: ArrayLike<number>): void {
    const moves = compactHeads(this.layout, limits); // the layout's mirror of what the kernel moves
    this.flush();
    if (moves.length === 0) return;
    const q = this.gpu.device.queue;
    this.moveCount = moves.length / 2;
    q.writeBuffer(this.compactMoves, 0, moves);
    q.writeBuffer(this.compactParams, 0, kvCompactParams(this.moveCount));
    // Queue order puts the moves before the next step's kernels; nothing waits for them here.
    const encoder = this.gpu.device.createCommandEncoder({ label: 'kv-compact' });
    const pass = encoder.beginComputePass();
    encodeDispatch(pass, this.compactDispatch, 1);
    pass.end();
    q.submit([encoder.finish()]);
  }

  /** Every layer's tables, for the model-wide kernels. */
  modelTables(): ModelTables<GPUBuffer> {
    const g = this.geometry;
    return {
      layers: g.numLayers,
      kvHeads: g.numKvHeads,
      pageSize: g.pageSize,
      maxPages: g.maxPagesPerHead,
      tableStride: g.tableLayerStride,
      slotsStride: g.headSlotsLayerStride,
      slotPos: this.slotPos,
      blockTable: this.blockTables,
      headSlots: this.headSlots,
    };
  }

  tableBinding(layer: number): GPUBufferBinding {
    const g = this.geometry;
    return { buffer: this.blockTables, offset: layer * g.tableLayerStride * 4, size: g.numKvHeads * g.maxPagesPerHead * 4 };
  }

  headSlotsBinding(layer: number): GPUBufferBinding {
    const g = this.geometry;
    return { buffer: this.headSlots, offset: layer * g.headSlotsLayerStride * 4, size: g.numKvHeads * 4 };
  }

  slotMapBinding(layer: number): GPUBufferBinding {
    const g = this.geometry;
    return { buffer: this.slotMap, offset: layer * g.slotMapLayerStride * 4, size: g.maxStepTokens * g.numKvHeads * 4 };
  }

  destroy(): void {
    for (const b of [this.kPool, this.vPool, this.slotPos, this.blockTables, this.headSlots, this.slotMap, this.compactMoves, this.compactParams]) b.destroy();
    for (const b of Object.values(this.state)) b.destroy();
  }
}
