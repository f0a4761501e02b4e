// The greedy token after each row of a step's logits: the lowest index among each row's maxima
// (sample.wgsl's greedy rule, numpy argmax). The answer-first probe's predictions (the next
// step's probe rows, src/policies/probe.ts) come back in the step's one read-back this way.
//   tokens[t] = argmax_i logits[t, i]      for t < step.rows
// Dispatch: (rows, 1, 1) workgroups of WG threads, one per row; each thread scans a stride of
// the vocabulary, then a tree keeps the larger value, the lower index on ties.
// The host joins step.wgsl (Step).

override VOCAB: u32;
override WG: u32 = 256; // a power of two

@group(0) @binding(0) var<uniform> step: Step;                    // this step's rows
@group(0) @binding(1) var<storage, read> logits: array<f32>;      // (rows, VOCAB)
@group(0) @binding(2) var<storage, read_write> tokens: array<u32>; // (rows) the greedy token after each row

var<workgroup> bestValue: array<f32, WG>;
var<workgroup> bestIndex: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x;
  if (t >= step.rows) {
    return; // the whole workgroup: a grid sized for more rows than this step has
  }
  let base = t * VOCAB;
  var value = -3.0e38;
  var index = 0xffffffffu;
  for (var i = lid; i < VOCAB; i += WG) {
    let l = logits[base + i];
    if (l > value || index == 0xffffffffu) { // strictly larger: the first index of a tie stays
      value = l;
      index = i;
    }
  }
  bestValue[lid] = value;
  bestIndex[lid] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let v = bestValue[lid + stride];
      let j = bestIndex[lid + stride];
      if (j != 0xffffffffu && (bestIndex[lid] == 0xffffffffu || v > bestValue[lid] || (v == bestValue[lid] && j < bestIndex[lid]))) {
        bestValue[lid] = v;
        bestIndex[lid] = j;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    tokens[t] = bestIndex[0];
  }
}
