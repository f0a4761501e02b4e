enable subgroups;
// Subgroup operations sit in loops whose bounds come from storage (headSlots, slotPos) and from a
// subgroup's claimed number: uniform across each subgroup, which the uniformity analysis cannot see.
diagnostic(off, subgroup_uniformity);

// The reductions of paged-attention-split.wgsl with subgroups (the device has the `subgroups`
// feature): each subgroup takes whole slots and its lanes split the head dimension, so K rows
// are read contiguously and subgroupAdd finishes each dot product; max and sum combine one value
// per subgroup. Concatenated first, before paged-attention-split.wgsl, whose bindings and
// workgroup arrays it uses. How invocations map to subgroups is the implementation's, so nothing
// here assumes subgroup k holds local ids [k * size, (k + 1) * size).

var<workgroup> claims: atomic<u32>; // subgroups numbered so far (workgroup memory starts at 0)
var<private> sgFirst: u32; // lowest local id of this invocation's subgroup: the subgroup's key
var<private> sgIndex: u32; // this subgroup's number in 0 .. sgCount
var<private> sgCount: u32;

// Scores of the split's slots that this subgroup owns (i = sgIndex, sgIndex + sgCount, ...) into
// e, slot and probs, written by the subgroup's first lane; returns their max (NO_SCORE if none is
// valid), the same in every lane.
fn score_slots(lid: u32, g: u32, s0: u32, count: u32, p: i32, row: u32) -> f32 {
  sgFirst = subgroupMin(lid);
  var claimed = 0u;
  if (lid == sgFirst) {
    claimed = atomicAdd(&claims, 1u);
  }
  sgIndex = subgroupMax(claimed);
  let lane = subgroupExclusiveAdd(1u);
  let lanes = subgroupAdd(1u);
  workgroupBarrier();
  sgCount = atomicLoad(&claims);

  var localMax = NO_SCORE;
  for (var i = sgIndex; i < count; i += sgCount) {
    let s = s0 + i;
    let phys = physical(g, s);
    let pos = slotPos[phys];
    let valid = pos >= 0 && pos <= p;
    var dot4 = vec4<f32>(0.0);
    if (valid) {
      let kBase = phys * QUADS;
      for (var k = lane; k < QUADS; k += lanes) {
        dot4 += qs[k] * kv_quad(kPool[kBase + k]);
      }
    }
    let dot = subgroupAdd(dot4.x + dot4.y + dot4.z + dot4.w);
    let score = select(NO_SCORE, SCALE * dot, valid);
    localMax = max(localMax, score);
    if (lid == sgFirst) {
      e[i] = score;
      slot[i] = phys;
      probs[row + s] = score;
    }
  }
  return localMax;
}

// One barrier per reduction; max and sum have arrays of their own, so neither waits before a reuse.
fn reduce_max(lid: u32, v: f32) -> f32 {
  let r = subgroupMax(v);
  if (lid == sgFirst) {
    redMax[sgIndex] = r;
  }
  workgroupBarrier();
  var m = NO_SCORE;
  for (var k = 0u; k < sgCount; k++) {
    m = max(m, redMax[k]);
  }
  return m;
}

// The subgroups' sums are added in the order of their keys, not of their claimed numbers (which
// vary from run to run), so the result is the same every run.
fn reduce_sum(lid: u32, v: f32) -> f32 {
  let r = subgroupAdd(v);
  redSum[lid] = select(0.0, r, lid == sgFirst);
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < WG; k++) {
    total += redSum[k];
  }
  return total;
}
