// Token embedding lookup: out[t, i] = table[tokens[t], i].
// Dispatch: (ceil(HIDDEN / WG), rows, 1) workgroups of WG threads; workgroup (x, t) copies
// WG consecutive elements of token t's row, so reads and writes are coalesced.

override HIDDEN: u32;
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> tokens: array<u32>;       // (rows)
@group(0) @binding(1) var<storage, read> table: array<f32>;        // (vocab, HIDDEN)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;    // (rows, HIDDEN)

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let i = gid.x;
  if (i >= HIDDEN) {
    return;
  }
  let t = wg.y;
  out[t * HIDDEN + i] = table[tokens[t] * HIDDEN + i];
}
