/** Every layer's paged-cache tables in one set of bindings (the model-wide kernels: head-load, select-model). */
export interface ModelTables<B> {
  layers: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  tableStride: number; // u32s between layers in blockTables
  slotsStride: number; // u32s between layers in headSlots
  slotPos: B; // (numSlots) i32 absolute position, -1 if empty
  blockTables: B; // (layers, tableStride) u32
  headSlots: B; // (layers, slotsStride) u32
}
