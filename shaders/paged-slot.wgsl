// The paged KV cache's lookup (../shared/DESIGN.md section 3), joined by the host of every
// shader that walks a head's logical slots. Each (layer, KV head) has a block table of MAX_PAGES
// physical page ids; logical slot s of a head lives at physical slot
//   table[s / PAGE_SIZE] * PAGE_SIZE + s % PAGE_SIZE
// The joining shader binds `blockTable: array<u32>`: one layer's tables (KV_HEADS, MAX_PAGES), or
// every layer's (layers, TABLE_STRIDE) (select-model, head-load), and says which in its header.

override PAGE_SIZE: u32;
override MAX_PAGES: u32; // pages per head in a block table

// The physical slot of logical slot s of the head whose table starts at blockTable[table].
fn paged_slot(table: u32, s: u32) -> u32 {
  return blockTable[table + s / PAGE_SIZE] * PAGE_SIZE + s % PAGE_SIZE;
}

// The physical slot of logical slot s of KV head g, where blockTable holds one layer's tables.
fn physical(g: u32, s: u32) -> u32 {
  return paged_slot(g * MAX_PAGES, s);
}
