/**
 * The GPU side of the paged KV cache: the K/V page pools shared by all layers and heads, each
 * slot's position (the valid mask), the eviction policy's per-slot state, and the packed tables
 * of kv-layout.ts uploaded each step. It alone writes slot positions from the host (an evicted
 * slot that the next token does not refill is marked empty before the next dispatch), and its
 * compaction moves K, V, positions and the policy state together with one reused dispatch.
 * One of the few classes: it owns GPU buffers' lifetimes.
 */
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
}

const EMPTY = new Int32Array([-1]);

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
    readonly kPool: GPUBuffer, // (numPages * pageSize, headDim) f32 or f16 pairs, keys after RoPE
    readonly vPool: GPUBuffer, // (numPages * pageSize, headDim)
    readonly slotPos: GPUBuffer, // (numPages * pageSize) i32, -1 = empty
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
      ...state,
      window: historyWindow,
    });
  }

  /**
   * Bytes allocate() creates for `g`: K and V pools, slot positions and the tables, and when
   * evicting the policy state (score, stamp, history) and the compaction's move list.
   */
  static bytesFor(g: KvGeometry, eviction: { historyWindow: number } | null = null): number {
    const slots = g.numPages * g.pageSize;
    const tables = 4 * g.numLayers * (g.tableLayerStride + g.headSlotsLayerStride + g.slotMapLayerStride);
    const state = eviction ? slots * 4 * (2 + eviction.historyWindow) + slots * 8 : 0;
    return 2 * slots * g.headDim * g.kvValueBytes + slots * 4 + tables + state;
  }

  /**
   * Creates the buffers for `g` (context-sized for the full cache, budget-sized under a budget:
   * model/forward-backend.ts sequenceGeometry) and, under eviction, a policy keeping `historyWindow`
   * values per slot (null: the full cache, no policy state); `checked` rejects if they could not
   * be allocated.
   */
  static allocate(gpu: Gpu, g: KvGeometry, eviction: { historyWindow: number } | null = null): { cache: KvCache; checked: Promise<void> } {
    const device = gpu.device;
    const slots = g.numPages * g.pageSize;
    const poolBytes = slots * g.headDim * g.kvValueBytes;
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
        createBuffer(device, 'kPool', poolBytes),
        createBuffer(device, 'vPool', poolBytes),
        createBuffer(device, 'slotPos', slots * 4),
        createBuffer(device, 'blockTables', g.numLayers * g.tableLayerStride * 4),
        createBuffer(device, 'headSlots', g.numLayers * g.headSlotsLayerStride * 4),
        createBuffer(device, 'slotMap', g.numLayers * g.slotMapLayerStride * 4),
        {
          score: createBuffer(device, 'policy score', stateSlots * 4),
          stamp: createBuffer(device, 'policy stamp', stateSlots * 4),
          history: createBuffer(device, 'policy history', stateSlots * historyWindow * 4),
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
    const eviction = this.evicting ? { historyWindow: this.historyWindow } : null;
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
  fits(g: KvGeometry, eviction: { historyWindow: number } | null): boolean {
    return g.numPages === this.geometry.numPages && (eviction === null) === !this.evicting && (eviction?.historyWindow ?? 0) === this.historyWindow;
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

  /** Reserves slots for `count` tokens at posStart.. and uploads the tables the kernels read. */
  append(posStart: number, count: number): Uint32Array {
    const slotMap = appendTokens(this.layout, posStart, count);
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
