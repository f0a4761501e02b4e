/**
 * The GPU side of the paged KV cache: the K/V page pools shared by all layers and heads, each
 * slot's position (the valid mask), and the packed tables of kv-layout.ts uploaded each step.
 * One of the few classes: it owns GPU buffers' lifetimes.
 */
import { GpuLimitError } from '../errors.ts';
import { allocateNow, createBuffer } from '../gpu/buffers.ts';
import { appendTokens, createKvLayout, kvBytes, type KvGeometry, type KvLayout, type ModelTables } from './kv-layout.ts';

export class KvCache {
  layout: KvLayout;
  private constructor(
    private readonly device: GPUDevice,
    readonly geometry: KvGeometry,
    readonly kPool: GPUBuffer, // (numPages * pageSize, headDim) f32, keys after RoPE
    readonly vPool: GPUBuffer, // (numPages * pageSize, headDim) f32
    readonly slotPos: GPUBuffer, // (numPages * pageSize) i32, -1 = empty
    readonly blockTables: GPUBuffer, // (layers, tableLayerStride) u32
    readonly headSlots: GPUBuffer, // (layers, headSlotsLayerStride) u32
    readonly slotMap: GPUBuffer, // (layers, slotMapLayerStride) u32
  ) {
    this.layout = createKvLayout(geometry);
  }

  /**
   * Creates the buffers for `g` (context-sized for the full cache, budget-sized under a budget:
   * engine/backend.ts sequenceGeometry); `checked` rejects if they could not be allocated.
   */
  /** Bytes allocate() creates for `g`: K and V pools, slot positions and the tables. */
  static bytesFor(g: KvGeometry): number {
    const slots = g.numPages * g.pageSize;
    return 2 * slots * g.headDim * g.kvValueBytes + slots * 4 + 4 * g.numLayers * (g.tableLayerStride + g.headSlotsLayerStride + g.slotMapLayerStride);
  }

  static allocate(device: GPUDevice, g: KvGeometry): { cache: KvCache; checked: Promise<void> } {
    const slots = g.numPages * g.pageSize;
    const poolBytes = slots * g.headDim * g.kvValueBytes;
    // Every layer's K (and V) is one binding: past the limit, only a smaller context or budget helps.
    if (poolBytes > device.limits.maxStorageBufferBindingSize) {
      throw new GpuLimitError('maxStorageBufferBindingSize (for the KV cache; choose a shorter context or a smaller budget)', poolBytes, device.limits.maxStorageBufferBindingSize);
    }
    const { value: cache, checked } = allocateNow(device, 'KV cache', 2 * poolBytes, () => {
      return new KvCache(
        device,
        g,
        createBuffer(device, 'kPool', poolBytes),
        createBuffer(device, 'vPool', poolBytes),
        createBuffer(device, 'slotPos', slots * 4),
        createBuffer(device, 'blockTables', g.numLayers * g.tableLayerStride * 4),
        createBuffer(device, 'headSlots', g.numLayers * g.headSlotsLayerStride * 4),
        createBuffer(device, 'slotMap', g.numLayers * g.slotMapLayerStride * 4),
      );
    });
    cache.reset();
    return { cache, checked };
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
    this.device.queue.writeBuffer(this.slotPos, 0, this.layout.slotPos);
  }

  /** Reserves slots for `count` tokens at posStart.. and uploads the tables the kernels read. */
  append(posStart: number, count: number): void {
    const slotMap = appendTokens(this.layout, posStart, count);
    this.device.queue.writeBuffer(this.slotMap, 0, slotMap);
    this.uploadTables();
  }

  /** Uploads the block tables and logical slot counts (after appending or compacting). */
  uploadTables(): void {
    this.device.queue.writeBuffer(this.blockTables, 0, this.layout.blockTables);
    this.device.queue.writeBuffer(this.headSlots, 0, this.layout.headSlots);
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
      blockTables: this.blockTables,
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
    for (const b of [this.kPool, this.vPool, this.slotPos, this.blockTables, this.headSlots, this.slotMap]) b.destroy();
  }
}
