// RMSNorm of each row (Qwen/Llama): out[r, i] = weight[i] * (x[r, i] / sqrt(mean_j x[r, j]^2 + EPS)).
// Also the per-head q/k norm of Qwen3, with DIM = headDim and one row per head.
// The host joins workgroup-tree-sum.wgsl (tree_sum) to this file.
// Dispatch: (rows, 1, 1) workgroups of WG threads, one workgroup per row.

override DIM: u32;
override EPS: f32;
override WG: u32 = 64; // a power of two

@group(0) @binding(0) var<storage, read> x: array<f32>;          // (rows, DIM)
@group(0) @binding(1) var<storage, read> weight: array<f32>;     // (DIM)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // (rows, DIM)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = wg.x * DIM;
  var sum_sq = 0.0;
  for (var i = lid; i < DIM; i += WG) {
    let v = x[base + i];
    sum_sq += v * v;
  }
  let inv_rms = 1.0 / sqrt(tree_sum(lid, sum_sq) / f32(DIM) + EPS);
  for (var i = lid; i < DIM; i += WG) {
    out[base + i] = weight[i] * (x[base + i] * inv_rms);
  }
}
