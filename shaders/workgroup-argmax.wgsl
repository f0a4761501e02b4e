// The greedy token of one row of logits: the lowest index among its maxima (numpy argmax), the
// rule of sample.wgsl's greedy path and of row-argmax.wgsl, which join this file. The joining
// shader defines VOCAB, WG (a power of two), NONE (0xffffffff), `logits`, and the workgroup
// arrays redF (f32) and redU (u32) of WG each. Every thread of the workgroup calls it.
fn row_argmax(lid: u32, base: u32) -> u32 {
  // Each thread sees its indices in increasing order, so strict > keeps its first maximum.
  var best = 0.0;
  var bestIdx = NONE;
  for (var i = lid; i < VOCAB; i += WG) {
    let v = logits[base + i];
    if (bestIdx == NONE || v > best) {
      best = v;
      bestIdx = i;
    }
  }
  redF[lid] = best;
  redU[lid] = bestIdx;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let v = redF[lid + stride];
      let i = redU[lid + stride];
      if (i != NONE && (redU[lid] == NONE || v > redF[lid] || (v == redF[lid] && i < redU[lid]))) {
        redF[lid] = v;
        redU[lid] = i;
      }
    }
    workgroupBarrier();
  }
  let r = redU[0];
  workgroupBarrier(); // everyone has read redU[0] before it is reused
  return r;
}
