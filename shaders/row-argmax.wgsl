// The greedy token after each row of a step's logits: the lowest index among each row's maxima
// (sample.wgsl's greedy rule, numpy argmax). The answer-first probe's predictions (the next
// step's probe rows, src/policies/probe.ts) come back in the step's one read-back this way.
//   tokens[t] = argmax_i logits[t, i]      for t < step.rows
// Dispatch: (rows, 1, 1) workgroups of WG threads, one per row.
// The host joins step.wgsl (Step) and workgroup-argmax.wgsl (row_argmax).

override VOCAB: u32;
override WG: u32 = 256; // a power of two

@group(0) @binding(0) var<uniform> step: Step;                    // this step's rows
@group(0) @binding(1) var<storage, read> logits: array<f32>;      // (rows, VOCAB)
@group(0) @binding(2) var<storage, read_write> tokens: array<u32>; // (rows) the greedy token after each row

const NONE = 0xffffffffu;

var<workgroup> redF: array<f32, WG>; // row_argmax's reduction (workgroup-argmax.wgsl)
var<workgroup> redU: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x;
  if (t >= step.rows) {
    return; // the whole workgroup: a grid sized for more rows than this step has
  }
  let best = row_argmax(lid, t * VOCAB);
  if (lid == 0u) {
    tokens[t] = best;
  }
}
