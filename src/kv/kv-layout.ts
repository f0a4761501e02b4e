/**
 * The paged KV cache's bookkeeping, shared by the GPU engine and the CPU reference: per
 * (layer, kvHead) block tables over one page pool, each slot's absolute position (-1 when
 * empty), and the packed tables the attention kernel reads. Plain data; no GPU here.
 *
 * Packing: per-layer slices start at multiples of 64 u32 (256 bytes), the WebGPU binding
 * offset alignment, so one buffer serves every layer.
 */
import { assert } from '../assert.ts';
import { pagedSlot } from '../kernels/paged-slot.ref.ts';
import { allocatePage, createPagePool, type PagePool } from './page-pool.ts';

export const BINDING_ALIGN_U32 = 64;
export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Every layer's block tables at once, as the model-wide kernels (head-load, select-model) read
 * them: B is a GPU binding on the device, an array in their CPU references.
 */
export type { ModelTables } from '../kernels/model-tables.ts';

/** A (layers, stride) array of per-head values (what select-victim reads per layer) as (layers * kvHeads). */
export function unstrideHeads(values: ArrayLike<number>, numLayers: number, numKvHeads: number, stride: number): Int32Array {
  return Int32Array.from({ length: numLayers * numKvHeads }, (_, i) => values[Math.floor(i / numKvHeads) * stride + (i % numKvHeads)]);
}

export interface KvGeometry {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  pageSize: number;
  /** Most pages one head may hold: ceil(capacity per head / pageSize). */
  maxPagesPerHead: number;
  numPages: number;
  /** Most tokens appended in one step (the prefill tile). */
  maxStepTokens: number;
  tableLayerStride: number; // u32 elements between layers in blockTables
  headSlotsLayerStride: number; // u32 elements between layers in headSlots
  slotMapLayerStride: number; // u32 elements between layers in slotMap
  /** Bytes of one K or V value: 4 (f32), or 2 (f16, for 16-bit models). */
  kvValueBytes: 2 | 4;
}

export function kvGeometry(g: {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  pageSize: number;
  capacityPerHead: number;
  maxStepTokens: number;
  /** K and V in 16 bits. */
  kv16?: boolean;
}): KvGeometry {
  const maxPagesPerHead = Math.ceil(g.capacityPerHead / g.pageSize);
  return {
    numLayers: g.numLayers,
    numKvHeads: g.numKvHeads,
    headDim: g.headDim,
    pageSize: g.pageSize,
    maxPagesPerHead,
    numPages: g.numLayers * g.numKvHeads * maxPagesPerHead,
    maxStepTokens: g.maxStepTokens,
    tableLayerStride: roundUp(g.numKvHeads * maxPagesPerHead, BINDING_ALIGN_U32),
    headSlotsLayerStride: roundUp(g.numKvHeads, BINDING_ALIGN_U32),
    slotMapLayerStride: roundUp(g.maxStepTokens * g.numKvHeads, BINDING_ALIGN_U32),
    kvValueBytes: g.kv16 ? 2 : 4,
  };
}

/** Bytes of K and V in a pool of this geometry, as the GPU stores them. */
export function kvBytes(g: KvGeometry): number {
  return 2 * g.numPages * g.pageSize * g.headDim * g.kvValueBytes;
}

export interface KvLayout {
  geometry: KvGeometry;
  pool: PagePool;
  pages: number[][]; // [layer * kvHeads + head] -> physical page ids in logical order
  holes: number[][]; // [layer * kvHeads + head] -> evicted logical slots, reused by the next token
  count: Int32Array; // (layers * kvHeads) valid entries per head
  blockTables: Uint32Array; // (layers, tableLayerStride): head h's pages at [h * maxPagesPerHead ..]
  headSlots: Uint32Array; // (layers, headSlotsLayerStride): logical slots in use per head
  slotPos: Int32Array; // (numPages * pageSize) absolute position held by each slot, -1 if empty
}

export function createKvLayout(geometry: KvGeometry): KvLayout {
  const heads = geometry.numLayers * geometry.numKvHeads;
  return {
    geometry,
    pool: createPagePool(geometry.numPages),
    pages: Array.from({ length: heads }, () => []),
    holes: Array.from({ length: heads }, () => []),
    count: new Int32Array(heads),
    blockTables: new Uint32Array(geometry.numLayers * geometry.tableLayerStride),
    headSlots: new Uint32Array(geometry.numLayers * geometry.headSlotsLayerStride),
    slotPos: new Int32Array(geometry.numPages * geometry.pageSize).fill(-1),
  };
}

/** Physical slot of logical slot `s` of head (layer, kvHead): its page list is its block table. */
export function physicalSlot(layout: KvLayout, layer: number, kvHead: number, s: number): number {
  const g = layout.geometry;
  return pagedSlot(layout.pages[layer * g.numKvHeads + kvHead], 0, g.pageSize, s);
}

/**
 * Reserves one slot per (layer, kvHead) for each of `count` new tokens at positions
 * posStart.. and returns the slot map (layers, slotMapLayerStride) the rope-append kernel reads:
 * for layer l, token t and head h, the physical slot is at [l * stride + t * kvHeads + h].
 * An evicted slot (a hole) is reused first; otherwise the head grows by one logical slot.
 * slotPos is updated here too, mirroring what the kernel writes on the GPU.
 */
export function appendTokens(layout: KvLayout, posStart: number, count: number): Uint32Array {
  const g = layout.geometry;
  assert(count <= g.maxStepTokens, `step of ${count} tokens exceeds the tile of ${g.maxStepTokens}`);
  const slotMap = new Uint32Array(g.numLayers * g.slotMapLayerStride);
  for (let l = 0; l < g.numLayers; l++) {
    for (let h = 0; h < g.numKvHeads; h++) {
      const head = l * g.numKvHeads + h;
      const pages = layout.pages[head];
      const slotsIndex = l * g.headSlotsLayerStride + h;
      for (let t = 0; t < count; t++) {
        const hole = layout.holes[head].pop();
        layout.count[head]++;
        if (hole !== undefined) {
          const slot = physicalSlot(layout, l, h, hole);
          layout.slotPos[slot] = posStart + t;
          slotMap[l * g.slotMapLayerStride + t * g.numKvHeads + h] = slot;
          continue;
        }
        const logical = layout.headSlots[slotsIndex];
        if (logical === pages.length * g.pageSize) {
          assert(pages.length < g.maxPagesPerHead, `head (${l}, ${h}) is full: the context is exhausted`);
          const page = allocatePage(layout.pool);
          layout.blockTables[l * g.tableLayerStride + h * g.maxPagesPerHead + pages.length] = page;
          pages.push(page);
        }
        const slot = physicalSlot(layout, l, h, logical);
        layout.headSlots[slotsIndex] = logical + 1;
        layout.slotPos[slot] = posStart + t;
        slotMap[l * g.slotMapLayerStride + t * g.numKvHeads + h] = slot;
      }
    }
  }
  return slotMap;
}

/** Evicts logical slot `s` of head (layer, kvHead): its slot becomes a hole for the next token. */
export function evictSlot(layout: KvLayout, layer: number, kvHead: number, s: number): void {
  const head = layer * layout.geometry.numKvHeads + kvHead;
  const slot = physicalSlot(layout, layer, kvHead, s);
  assert(layout.slotPos[slot] >= 0, `slot ${s} of head (${layer}, ${kvHead}) is already empty`);
  layout.slotPos[slot] = -1;
  layout.holes[head].push(s);
  layout.count[head]--;
}
