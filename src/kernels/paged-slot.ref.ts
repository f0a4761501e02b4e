/**
 * CPU reference of paged-slot.wgsl's paged_slot, the paged KV cache's lookup, for the kernels'
 * references, their tests and the bookkeeping (kv/kv-layout.ts). Logical slot s of the head whose
 * block table starts at blockTable[table] lives at physical slot
 *   blockTable[table + floor(s / pageSize)] * pageSize + s % pageSize
 * One layer's tables are (kvHeads, maxPages): head g's starts at g * maxPages; every layer's are
 * (layers, tableStride): head g of layer l's starts at l * tableStride + g * maxPages.
 */
export function pagedSlot(blockTable: ArrayLike<number>, table: number, pageSize: number, s: number): number {
  return blockTable[table + Math.floor(s / pageSize)] * pageSize + (s % pageSize);
}
