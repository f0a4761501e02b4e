/**
 * CPU reference of stream-read.wgsl: the wrapping u32 sum of the vec4s each workgroup reads.
 * Integer sums wrap the same in any order, so the GPU must match it exactly.
 */
export function streamReadRef(
  data: Uint32Array, // (count, 4): count vec4s
  wg: number,
  groups: number,
): Uint32Array {
  const count = data.length >>> 2;
  const partial = new Uint32Array(groups); // (groups)
  const threads = wg * groups;
  // Vec4 i is read by the thread i % threads, which belongs to workgroup (i % threads) / wg.
  for (let i = 0; i < count; i++) {
    const w = Math.floor((i % threads) / wg);
    const e = 4 * i;
    partial[w] = (partial[w] + data[e] + data[e + 1] + data[e + 2] + data[e + 3]) >>> 0;
  }
  return partial;
}
