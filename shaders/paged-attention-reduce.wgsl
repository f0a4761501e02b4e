// Pass 2 of split-K decode attention (flash-decoding), for rows = 1: combines the partials that
// paged-attention-split.wgsl left for each query head h, and turns the scores it left in probs
// into probabilities. Over the head's splits j (KV head g = h / (HEADS / KV_HEADS)):
//   M = max_j m[h, j],  L = sum_j l[h, j] * exp(m[h, j] - M)
//   out[h] = sum_j o[h, j] * exp(m[h, j] - M) / L                          (by workgroup c = 0)
//   probs[h, s] = exp(probs[h, s] - M) / L for the valid slots s of chunk c, exactly 0 for the others
// Splits with l = 0 (no valid slot) count for nothing. A head with no valid slot gets out 0 and
// probs 0; probs[h, s] for s >= headSlots[g] is not written. Each workgroup folds all of its
// head's partials, so it normalises a chunk of CHUNK slots, wider than a split: one workgroup per
// split would make that folding grow with the square of the cache.
// Dispatch: (HEADS, ceil(MAX_PAGES * PAGE_SIZE / CHUNK), 1) workgroups of WG threads, one per (head, chunk).

override HEADS: u32;
override KV_HEADS: u32;
override HEAD_DIM: u32; // a multiple of 4
override PAGE_SIZE: u32;
override MAX_PAGES: u32;
override NSPLITS: u32; // paged-attention-split's workgroups per head
override CHUNK: u32; // slots normalised per workgroup
override WG: u32 = 64;
override QUADS: u32 = HEAD_DIM / 4u; // not set by the host

const NO_SCORE = -3.0e38; // paged-attention-split.wgsl's mark of an invalid slot

@group(0) @binding(0) var<storage, read> headSlots: array<u32>;        // (KV_HEADS) logical slots in use
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;   // (HEADS, NSPLITS, 1 + HEAD_DIM / 4): (m, l, 0, 0), o
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;  // (1, HEADS, HEAD_DIM / 4)
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;      // (1, HEADS, MAX_PAGES * PAGE_SIZE)

var<workgroup> redMax: array<f32, WG>;
var<workgroup> redSum: array<f32, WG>;

// reduce_max and reduce_sum: workgroup-fold.wgsl, joined after this file by the host.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  let c = wg.y;
  let g = h / (HEADS / KV_HEADS);
  let n = min(headSlots[g], MAX_PAGES * PAGE_SIZE);
  let rec = 1u + QUADS; // vec4s per partial
  let first = h * NSPLITS * rec;

  var localMax = NO_SCORE;
  for (var k = lid; k < NSPLITS; k += WG) {
    localMax = max(localMax, partials[first + k * rec].x);
  }
  let M = reduce_max(lid, localMax);
  var localSum = 0.0;
  for (var k = lid; k < NSPLITS; k += WG) {
    let ml = partials[first + k * rec];
    if (ml.y > 0.0) {
      localSum += ml.y * exp(ml.x - M);
    }
  }
  let L = reduce_sum(lid, localSum);
  let inv = select(0.0, 1.0 / L, L > 0.0);

  let row = h * (MAX_PAGES * PAGE_SIZE);
  let end = min(n, (c + 1u) * CHUNK);
  for (var s = c * CHUNK + lid; s < end; s += WG) {
    let score = probs[row + s];
    probs[row + s] = select(0.0, exp(score - M) * inv, score > NO_SCORE);
  }

  if (c == 0u) {
    for (var d = lid; d < QUADS; d += WG) {
      var o = vec4<f32>(0.0);
      for (var k = 0u; k < NSPLITS; k++) {
        let ml = partials[first + k * rec];
        if (ml.y > 0.0) {
          o += partials[first + k * rec + 1u + d] * exp(ml.x - M);
        }
      }
      out[h * QUADS + d] = o * inv;
    }
  }
}
