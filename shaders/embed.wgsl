// Token embedding lookup: out[t, i] = table[tokens[t], i], decoded from the table's format (the
// same layouts as gemv.wgsl, whose FORMAT codes these are), so a quantized embedding is read in
// place and a tied lm_head can share it.
// FORMAT 0 f32 | 1 f16 | 2 bf16: table (vocab, HIDDEN), 16-bit formats two per word.
// FORMAT 3 q4 + f16 scales | 4 q4 + f32 scales: table (vocab, WORDS) words of eight 4-bit codes,
//   scales (vocab, GROUPS); w = (code - 7) * scale.
// A table larger than one binding may hold is looked up in row ranges, one dispatch each, bound
// from row ROW0 and ROWS rows long: each writes only the tokens whose ids fall in its range.
// Dispatch: (ceil(HIDDEN / WG), rows, 1) workgroups of WG threads; workgroup (x, t) writes
// WG consecutive elements of token t's row, so reads and writes are coalesced.

override HIDDEN: u32;
override FORMAT: u32 = 0u;
override WORDS: u32 = 1u;
override GROUPS: u32 = 1u;
override ROW0: u32 = 0u;
override ROWS: u32 = 0xffffffffu;
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> tokens: array<u32>;       // (rows)
@group(0) @binding(1) var<storage, read> table: array<u32>;        // per FORMAT, above
@group(0) @binding(2) var<storage, read> scales: array<u32>;       // q4: (vocab, GROUPS); a placeholder otherwise
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // (rows, HIDDEN)

fn value(row: u32, i: u32) -> f32 {
  if (FORMAT == 0u) {
    return bitcast<f32>(table[row * HIDDEN + i]);
  }
  if (FORMAT >= 3u) {
    let code = (table[row * WORDS + i / 8u] >> ((i % 8u) * 4u)) & 0xfu;
    let s = row * GROUPS + i / 32u;
    let scale = select(unpack2x16float(scales[s >> 1u])[s & 1u], bitcast<f32>(scales[s]), FORMAT == 4u);
    return (f32(code) - 7.0) * scale;
  }
  let e = row * HIDDEN + i;
  let word = table[e >> 1u];
  if (FORMAT == 2u) {
    return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
  }
  return unpack2x16float(word)[e & 1u];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let i = gid.x;
  if (i >= HIDDEN) {
    return;
  }
  let t = wg.y;
  let id = tokens[t];
  if (id < ROW0 || id - ROW0 >= ROWS) {
    return; // another range's row
  }
  out[t * HIDDEN + i] = value(id - ROW0, i);
}
