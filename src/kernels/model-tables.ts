/** Every layer's paged-cache tables in one set of bindings (the model-wide kernels: head-load, select-model). */
export interface ModelTables<B> {
  layers: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  tableStride: number; // u32s between layers in blockTable
  slotsStride: number; // u32s between layers in headSlots
  slotPos: B; // (numSlots) i32 absolute position, -1 if empty
  blockTable: B; // (layers, tableStride) u32: every layer's block tables, head g of layer l's at l * tableStride + g * maxPages
  headSlots: B; // (layers, slotsStride) u32
}
