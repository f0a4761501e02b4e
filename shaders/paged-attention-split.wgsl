// Pass 1 of split-K decode attention (flash-decoding) over the paged KV cache, for rows = 1.
// Query head h reads KV head g = h / (HEADS / KV_HEADS) (GQA); workgroup (h, j) takes the logical
// slots s in [j * SPLIT, (j + 1) * SPLIT) that are below headSlots[g]. Slot s lives at physical
// slot phys = physical(g, s) (paged-slot.wgsl), and is valid iff 0 <= slotPos[phys] <= pos_start
// (holes are -1).
//   score[s] = SCALE * dot(q[h], kPool[phys])       (NO_SCORE for an invalid s)
//   m = max_s score[s],  l = sum_s exp(score[s] - m),  o = sum_s exp(score[s] - m) * vPool[phys]
// It writes probs[h, s] = score[s] (scratch: paged-attention-reduce.wgsl turns each into its
// probability) and partials[h, j] = (m, l, 0, 0), o. A split with no valid slot (past headSlots,
// or holes only) writes m = NO_SCORE, l = 0, o = 0.
// The pass is several files the host concatenates, in this order: a reduction variant
// (paged-attention-split-workgroup.wgsl with workgroup-fold.wgsl, or
// paged-attention-split-subgroups.wgsl whose `enable` must open the module) that defines
// score_slots, reduce_max and reduce_sum; this file; a K/V format (paged-attention-kv-f32.wgsl or
// paged-attention-kv-f16.wgsl) that defines KvQuad and kv_quad; step.wgsl (Step); paged-slot.wgsl
// (PAGE_SIZE, MAX_PAGES, physical).
// Dispatch: (HEADS, NSPLITS, 1) workgroups of WG threads, NSPLITS = ceil(MAX_PAGES * PAGE_SIZE / SPLIT).

override HEADS: u32;
override KV_HEADS: u32;
override HEAD_DIM: u32; // a multiple of 4
override SPLIT: u32; // logical slots per workgroup
override NSPLITS: u32; // workgroups per head
override SCALE: f32; // 1 / sqrt(HEAD_DIM) for the usual models
override WG: u32 = 64; // a power of two
override QUADS: u32 = HEAD_DIM / 4u; // vec4s per K or V row; not set by the host

const NO_SCORE = -3.0e38; // below any real score: "no valid slot"

@group(0) @binding(0) var<uniform> step: Step;                         // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;          // (1, HEADS, HEAD_DIM / 4)
@group(0) @binding(2) var<storage, read> kPool: array<KvQuad>;         // (numSlots, HEAD_DIM / 4), RoPE applied
@group(0) @binding(3) var<storage, read> vPool: array<KvQuad>;         // (numSlots, HEAD_DIM / 4)
@group(0) @binding(4) var<storage, read> slotPos: array<i32>;          // (numSlots) absolute position, -1 if empty
@group(0) @binding(5) var<storage, read> blockTable: array<u32>;       // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(6) var<storage, read> headSlots: array<u32>;        // (KV_HEADS) logical slots in use
@group(0) @binding(7) var<storage, read_write> probs: array<f32>;      // (1, HEADS, MAX_PAGES * PAGE_SIZE)
@group(0) @binding(8) var<storage, read_write> partials: array<vec4<f32>>; // (HEADS, NSPLITS, 1 + HEAD_DIM / 4): (m, l, 0, 0), o

var<workgroup> qs: array<vec4<f32>, QUADS>;
var<workgroup> e: array<f32, SPLIT>;     // the split's scores, then exp(score - m) (0 where invalid)
var<workgroup> slot: array<u32, SPLIT>;  // the physical slot of each of the split's slots
var<workgroup> redMax: array<f32, WG>; // reduce_max's and reduce_sum's exchange
var<workgroup> redSum: array<f32, WG>;
var<workgroup> acc: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  let j = wg.y;
  let g = h / (HEADS / KV_HEADS);
  let n = min(headSlots[g], MAX_PAGES * PAGE_SIZE);
  let s0 = j * SPLIT;
  let count = select(0u, min(SPLIT, n - s0), n > s0); // this split's slots
  let row = h * (MAX_PAGES * PAGE_SIZE);
  let base = (h * NSPLITS + j) * (1u + QUADS);
  if (count == 0u) { // past headSlots (uniform: headSlots is read-only): no barrier, nothing to score
    for (var d = lid; d < QUADS; d += WG) {
      partials[base + 1u + d] = vec4<f32>(0.0);
    }
    if (lid == 0u) {
      partials[base] = vec4<f32>(NO_SCORE, 0.0, 0.0, 0.0);
    }
    return;
  }

  for (var i = lid; i < QUADS; i += WG) {
    qs[i] = q[h * QUADS + i];
  }
  workgroupBarrier();

  // Scores into e, slot and probs; their max.
  let m = reduce_max(lid, score_slots(lid, g, s0, count, i32(step.pos_start), row));

  // Exponentials and their sum (reduce_sum's barrier also publishes e to the whole workgroup).
  var localSum = 0.0;
  for (var i = lid; i < count; i += WG) {
    let x = select(0.0, exp(e[i] - m), e[i] > NO_SCORE);
    e[i] = x;
    localSum += x;
  }
  let l = reduce_sum(lid, localSum);

  if (lid == 0u) {
    partials[base] = vec4<f32>(m, l, 0.0, 0.0);
  }
  // o: with QUADS < WG, the WG / QUADS groups of QUADS threads split the slots and their partial
  // sums are added through `acc`; otherwise each thread owns whole quads.
  let groups = max(1u, WG / QUADS);
  if (groups == 1u) {
    for (var d = lid; d < QUADS; d += WG) {
      var o = vec4<f32>(0.0);
      for (var i = 0u; i < count; i++) {
        let x = e[i];
        if (x != 0.0) { // invalid slots may hold anything, NaN included
          o += x * kv_quad(vPool[slot[i] * QUADS + d]);
        }
      }
      partials[base + 1u + d] = o;
    }
  } else {
    let d = lid % QUADS;
    let grp = lid / QUADS;
    var o = vec4<f32>(0.0);
    if (grp < groups) {
      for (var i = grp; i < count; i += groups) {
        let x = e[i];
        if (x != 0.0) {
          o += x * kv_quad(vPool[slot[i] * QUADS + d]);
        }
      }
    }
    acc[lid] = o;
    workgroupBarrier();
    if (lid < QUADS) {
      var sum = vec4<f32>(0.0);
      for (var k = 0u; k < groups; k++) {
        sum += acc[k * QUADS + lid];
      }
      partials[base + 1u + lid] = sum;
    }
  }
}
