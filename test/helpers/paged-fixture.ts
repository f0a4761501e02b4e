/**
 * The paged caches kernel tests build: pages handed out in shuffled order, so a head's pages are
 * not contiguous and every page it does not own must never be read. The per-layer kernels get one
 * layer's tables (layerTables over shuffledPagedGeometry), the model-wide ones every layer's
 * (modelTables over modelPagedGeometry). Head (l, g) owns the next maxPages pages of `order`, in
 * (layer, head) order, and uses lengths[l][g] logical slots.
 */
import { createBufferFrom } from '../../src/gpu/buffers.ts';
import type { Binding } from '../../src/gpu/kernel.ts';
import { pagedSlot } from '../../src/kernels/paged-slot.ref.ts';
import { BINDING_ALIGN_U32, roundUp } from '../../src/kv/kv-layout.ts';

export interface PagedGeometry {
  pageSize: number;
  maxPages: number; // pages per head's table: the longest head's plus one
  maxSlots: number; // maxPages * pageSize
  tableStride: number; // u32s per layer in blockTables
  slotsStride: number; // u32s per layer in headSlots
  numPages: number;
  numSlots: number;
  order: number[]; // physical pages in the order they are handed out
}

function geometry(kvHeads: number, lengths: readonly number[], pageSize: number, pagesFor: (maxPages: number) => number) {
  const maxPages = Math.ceil(Math.max(...lengths) / pageSize) + 1;
  const numPages = pagesFor(maxPages);
  return {
    pageSize,
    maxPages,
    maxSlots: maxPages * pageSize,
    tableStride: roundUp(kvHeads * maxPages, BINDING_ALIGN_U32),
    slotsStride: roundUp(kvHeads, BINDING_ALIGN_U32),
    numPages,
    numSlots: numPages * pageSize,
  };
}

/** Two layers' pages plus spares (Fisher-Yates shuffled): for one layer's kernels, bound as layer 1. */
export function shuffledPagedGeometry(rand: () => number, kvHeads: number, lengths: number[], pageSize: number): PagedGeometry {
  const g = geometry(kvHeads, lengths, pageSize, (maxPages) => 2 * kvHeads * maxPages + 3);
  const order = Array.from({ length: g.numPages }, (_, i) => i);
  for (let i = g.numPages - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { ...g, order };
}

/** Every layer's pages plus spares, for the model-wide kernels; `lengths` lists every head's. */
export function modelPagedGeometry(rand: () => number, layers: number, kvHeads: number, lengths: number[], pageSize: number): PagedGeometry {
  const g = geometry(kvHeads, lengths, pageSize, (maxPages) => layers * kvHeads * maxPages + 3);
  // A sort with a random comparator, not Fisher-Yates: it keeps these tests' seeds giving the data they always did.
  return { ...g, order: Array.from({ length: g.numPages }, (_, i) => i).sort(() => rand() - 0.5) };
}

/** Hands out geo.order to the heads of lengths[i] as layer first + i of the stacked tables. */
function handOut(geo: PagedGeometry, blockTables: Uint32Array, headSlots: Uint32Array, lengths: readonly (readonly number[])[], first: number): void {
  let next = 0;
  lengths.forEach((heads, i) => {
    const l = first + i;
    heads.forEach((len, g) => {
      headSlots[l * geo.slotsStride + g] = len;
      for (let j = 0; j < geo.maxPages; j++) blockTables[l * geo.tableStride + g * geo.maxPages + j] = geo.order[next++];
    });
  });
}

/** Every layer's tables, (layers, tableStride) and (layers, slotsStride), and the lookup of head (l, g). */
export function modelTables(geo: PagedGeometry, lengths: readonly (readonly number[])[]) {
  const blockTables = new Uint32Array(lengths.length * geo.tableStride);
  const headSlots = new Uint32Array(lengths.length * geo.slotsStride);
  handOut(geo, blockTables, headSlots, lengths, 0);
  const phys = (l: number, g: number, s: number) => pagedSlot(blockTables, l * geo.tableStride + g * geo.maxPages, geo.pageSize, s);
  return { blockTables, headSlots, phys };
}

/**
 * One layer's tables, beside the geometry's fields: blockTable (kvHeads, maxPages) and headSlots
 * (kvHeads) are views of the stacked blockTables and headSlotsAll. Sliced (the default), the layer
 * is layer 1 of two, and layer 0 points at other pages with full lengths: a kernel that reads past
 * its slice gets every result wrong. Unsliced, the layer's tables are the whole buffers.
 */
export function layerTables(geo: PagedGeometry, lengths: readonly number[], sliced = true) {
  const kvHeads = lengths.length;
  const layer = sliced ? 1 : 0;
  const blockTables = new Uint32Array((layer + 1) * geo.tableStride);
  const headSlotsAll = new Uint32Array((layer + 1) * geo.slotsStride);
  if (sliced) {
    for (let i = 0; i < kvHeads * geo.maxPages; i++) blockTables[i] = geo.order[geo.numPages - 1 - (i % Math.floor(geo.numPages / 2))];
    headSlotsAll.fill(geo.maxSlots, 0, kvHeads);
  }
  handOut(geo, blockTables, headSlotsAll, [lengths], layer);
  const blockTable = blockTables.subarray(layer * geo.tableStride);
  const headSlots = headSlotsAll.subarray(layer * geo.slotsStride);
  return {
    ...geo,
    blockTables,
    headSlotsAll,
    blockTable,
    headSlots,
    phys: (g: number, s: number) => pagedSlot(blockTable, g * geo.maxPages, geo.pageSize, s),
    /** The layer's bindings over GPU copies of the stacked tables: its slices, or the whole buffers. */
    bind(device: GPUDevice): { blockTable: Binding; headSlots: Binding } {
      const tables = createBufferFrom(device, 'blockTables', blockTables);
      const slots = createBufferFrom(device, 'headSlots', headSlotsAll);
      if (!sliced) return { blockTable: tables, headSlots: slots };
      return {
        blockTable: { buffer: tables, offset: geo.tableStride * 4, size: kvHeads * geo.maxPages * 4 },
        headSlots: { buffer: slots, offset: geo.slotsStride * 4, size: kvHeads * 4 },
      };
    },
  };
}
