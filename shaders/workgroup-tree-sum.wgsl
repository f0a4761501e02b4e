// A sum over a workgroup as a tree, for the shaders joined with it (rmsnorm, rope-append), which
// declare WG (a power of two): thread lid gives v, every thread gets the same total. The tree's
// order of f32 additions is the one rmsnorm always used, so a norm computed here or there is the
// same number.
var<workgroup> partial: array<f32, WG>;

fn tree_sum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // every thread has read the total before partial is written again
  return total;
}
