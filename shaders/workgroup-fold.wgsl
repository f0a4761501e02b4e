// reduce_max and reduce_sum over a workgroup, for the shaders joined with it (paged-attention-split's
// workgroup variant, paged-attention-reduce), which declare redMax and redSum: array<f32, WG>.
// Each thread writes its value, then every thread folds the WG values in the same order: one
// barrier per reduction (SwiftShader pays dearly for each barrier of a tree) and the same
// result every run. Max and sum have arrays of their own, so neither waits before a reuse.
fn reduce_max(lid: u32, v: f32) -> f32 {
  redMax[lid] = v;
  workgroupBarrier();
  var r = NO_SCORE;
  for (var k = 0u; k < WG; k++) {
    r = max(r, redMax[k]);
  }
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  redSum[lid] = v;
  workgroupBarrier();
  var r = 0.0;
  for (var k = 0u; k < WG; k++) {
    r += redSum[k];
  }
  return r;
}
