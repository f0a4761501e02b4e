// The reductions of paged-attention-split.wgsl without subgroups (any adapter): one thread per
// slot computes that slot's whole dot product, and max and sum go through workgroup memory.
// Concatenated before paged-attention-split.wgsl, whose bindings and workgroup arrays it uses;
// its reduce_max and reduce_sum are workgroup-fold.wgsl's.

// Scores of the split's slots this thread owns (i = lid, lid + WG, ...) into e, slot and probs;
// returns their max (NO_SCORE if none is valid).
fn score_slots(lid: u32, g: u32, s0: u32, count: u32, p: i32, row: u32) -> f32 {
  var localMax = NO_SCORE;
  for (var i = lid; i < count; i += WG) {
    let s = s0 + i;
    let phys = physical(g, s);
    let pos = slotPos[phys];
    var score = NO_SCORE;
    if (pos >= 0 && pos <= p) {
      let kBase = phys * QUADS;
      var dot4 = vec4<f32>(0.0);
      for (var k = 0u; k < QUADS; k++) {
        dot4 += qs[k] * kv_quad(kPool[kBase + k]);
      }
      score = SCALE * (dot4.x + dot4.y + dot4.z + dot4.w);
      localMax = max(localMax, score);
    }
    e[i] = score;
    slot[i] = phys;
    probs[row + s] = score;
  }
  return localMax;
}
