// Folds the answer-first probe's attention into its per-slot score (src/policies/probe.ts;
// cpu-chooser.ts observeProbe and admit, on the GPU), for every KV head of a layer, right after
// the layer's attention. Over the logical slots s < headSlots[g] of KV head g, slot s lives at
// physical slot phys = physical(g, s) (paged-slot.wgsl) and holds an entry iff slotPos[phys] >= 0.
//   an entry written this step (slotPos >= step.pos_start) starts at 0: no probe has read it;
//   then for each probe block of the step in order (the answer block, then the lookahead; step.wgsl),
//     seen      = max over the block's rows t of sum_{h in [g*G, (g+1)*G)} probs[t, h, s]
//     probe[s]  = max(DECAY * probe[s], seen)
// A step without probe rows (prefill, the answer stage) only starts its new entries at 0. The
// host leaves this dispatch out of the steps that decode a lookahead's first rows, which are
// read and never folded.
// The host joins step.wgsl (Step) and paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, physical).
// Dispatch: (KV_HEADS, ceil(MAX_PAGES * PAGE_SIZE / WG), 1) workgroups of WG threads, one thread
// per logical slot.

override HEADS: u32;
override KV_HEADS: u32;
override DECAY: f32; // how much of a probe score carries over per fold
override WG: u32 = 64;

@group(0) @binding(0) var<uniform> step: Step;                     // this step's rows and where its probe blocks sit
@group(0) @binding(1) var<storage, read> probs: array<f32>;        // (rows, HEADS, MAX_PAGES * PAGE_SIZE)
@group(0) @binding(2) var<storage, read> slotPos: array<i32>;      // (numSlots) absolute position, -1 if empty
@group(0) @binding(3) var<storage, read> blockTable: array<u32>;   // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(4) var<storage, read> headSlots: array<u32>;    // (KV_HEADS) logical slots in use
@group(0) @binding(5) var<storage, read_write> probe: array<f32>;  // (numSlots) the probe score

// The most attention any row in [first, end) pays slot s, summed over KV head g's query heads.
fn seen(g: u32, s: u32, first: u32, end: u32) -> f32 {
  let group = HEADS / KV_HEADS;
  let slots = MAX_PAGES * PAGE_SIZE;
  var most = 0.0;
  for (var t = first; t < end; t++) {
    var sum = 0.0;
    for (var h = g * group; h < (g + 1u) * group; h++) {
      sum += probs[(t * HEADS + h) * slots + s];
    }
    most = max(most, sum);
  }
  return most;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wg.x;
  let s = wg.y * WG + lid;
  if (s >= min(headSlots[g], MAX_PAGES * PAGE_SIZE)) {
    return;
  }
  let phys = physical(g, s);
  let pos = slotPos[phys];
  if (pos < 0) {
    return;
  }
  var value = select(probe[phys], 0.0, pos >= i32(step.pos_start));
  let answerEnd = step.real_rows + step.answer_rows;
  if (step.answer_rows > 0u) {
    value = max(DECAY * value, seen(g, s, step.real_rows, answerEnd));
  }
  if (step.rows > answerEnd) {
    value = max(DECAY * value, seen(g, s, answerEnd, step.rows));
  }
  probe[phys] = value;
}
