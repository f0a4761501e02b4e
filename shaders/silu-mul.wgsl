// SwiGLU activation of the fused gate/up projection (gate first, then up):
//   out[t, i] = silu(gateUp[t, i]) * gateUp[t, INTERMEDIATE + i],   silu(g) = g / (1 + exp(-g))
// Dispatch: (ceil(INTERMEDIATE / WG), rows, 1) workgroups of WG threads; workgroup (x, t) covers
// WG consecutive i of token t.

override INTERMEDIATE: u32;
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> gateUp: array<f32>;     // (rows, 2 * INTERMEDIATE)
@group(0) @binding(1) var<storage, read_write> out: array<f32>;  // (rows, INTERMEDIATE)

// g * sigmoid(g) with exp of a non-positive argument only, so no exp overflows to inf for any g.
fn silu(g: f32) -> f32 {
  let e = exp(-abs(g)); // in (0, 1]
  let sigmoid = select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
  return g * sigmoid;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let i = gid.x;
  if (i >= INTERMEDIATE) {
    return;
  }
  let t = wg.y;
  let base = t * 2u * INTERMEDIATE + i;
  out[t * INTERMEDIATE + i] = silu(gateUp[base]) * gateUp[base + INTERMEDIATE];
}
