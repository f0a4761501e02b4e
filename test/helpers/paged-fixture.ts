/**
 * The paged geometry kernel tests share: two layers' pages plus spares, in shuffled order, so a
 * layer's heads get non-contiguous pages and every page it does not own must never be read.
 */
import { BINDING_ALIGN_U32 } from '../../src/kv/kv-layout.ts';

export function shuffledPagedGeometry(rand: () => number, kvHeads: number, lengths: number[], pageSize: number) {
  const maxPages = Math.ceil(Math.max(...lengths) / pageSize) + 1;
  const numPages = 2 * kvHeads * maxPages + 3;
  const order = Array.from({ length: numPages }, (_, i) => i);
  for (let i = numPages - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return {
    maxPages,
    maxSlots: maxPages * pageSize,
    tableStride: Math.ceil((kvHeads * maxPages) / BINDING_ALIGN_U32) * BINDING_ALIGN_U32, // u32s per layer
    slotsStride: Math.ceil(kvHeads / BINDING_ALIGN_U32) * BINDING_ALIGN_U32,
    numPages,
    numSlots: numPages * pageSize,
    order, // physical pages in the order they are handed out
  };
}
