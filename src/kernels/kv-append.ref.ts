/**
 * CPU reference of rope-append.wgsl's append: stores each token's K/V head rows at its slot and records the
 * slot's absolute position. Updates the pools in place. With kv16 the values are rounded to the
 * nearest half, as pack2x16float stores them.
 */
import { roundHalf } from '../gpu/half.ts';

export function kvAppendRef(
  k: ArrayLike<number>, // (rows, kvHeads, headDim)
  v: ArrayLike<number>, // (rows, kvHeads, headDim)
  slotMap: ArrayLike<number>, // (rows, kvHeads) physical slot; >= numSlots: skip
  rows: number,
  kvHeads: number,
  headDim: number,
  posStart: number,
  kPool: Float64Array | Float32Array, // (numSlots, headDim)
  vPool: Float64Array | Float32Array, // (numSlots, headDim)
  slotPos: Int32Array, // (numSlots) absolute position, -1 = empty
  kv16 = false,
): void {
  const store = kv16 ? roundHalf : (x: number) => x;
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < kvHeads; h++) {
      const slot = slotMap[t * kvHeads + h];
      if (slot >= slotPos.length) continue;
      const src = (t * kvHeads + h) * headDim;
      const dst = slot * headDim;
      for (let d = 0; d < headDim; d++) {
        kPool[dst + d] = store(k[src + d]);
        vPool[dst + d] = store(v[src + d]);
      }
      slotPos[slot] = posStart + t;
    }
  }
}
