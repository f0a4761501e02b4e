/** CPU reference of embed.wgsl: copies each token's row of the table. */
export function embedRef(
  tokens: ArrayLike<number>, // (rows)
  table: ArrayLike<number>, // (vocab, hidden)
  rows: number,
  hidden: number,
  out: Float64Array = new Float64Array(rows * hidden), // (rows, hidden)
): Float64Array {
  for (let t = 0; t < rows; t++) {
    const src = tokens[t] * hidden;
    const dst = t * hidden;
    for (let i = 0; i < hidden; i++) out[dst + i] = table[src + i];
  }
  return out;
}
