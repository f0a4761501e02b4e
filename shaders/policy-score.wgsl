// Eviction scores that depend on a head's other entries (the policies' score(), on the GPU), for
// every full KV head of a layer; select-victim then reads them by RULE_SCORE. Over the logical slots
// s < headSlots[g] of KV head g, slot s lives at physical slot phys = physical(g, s)
// (paged-slot.wgsl) and holds an entry iff slotPos[phys] >= 0.
// Head g is full iff counts[g] >= limits[g]; other heads are skipped (select-victim ignores them).
// An entry's neighbours are the HALF = POOL / 2 nearest entries below and above it in the order of
// (position, logical slot), fewer at the ends (src/policies/pooling.ts): each full head first ranks
// its entries (position-rank.wgsl) and lists them by rank in `order`, so a neighbour is a lookup.
//   RULE_SNAPKV_D: w = sum_r history[phys, r];  score = (w over the entry and its neighbours) / POOL
//   RULE_R_KV:     importance = max(0, mean_r history[., r] over the entry and its neighbours)
//                    cos(i, j) = dot(k_i, k_j) / ((|k_i| + 1e-8) (|k_j| + 1e-8)) over the other entries j;
//                    redundancy_i = (sum_j cos(i, j) - cos(i, newest)) / n, where newest is the
//                    highest-positioned j with cos > THRESHOLD (nothing subtracted if none)
//                    score = LAMBDA * importance - (1 - LAMBDA) * softmax_i(redundancy)
// r-kv compares every pair of the head's keys: O(n^2 HEAD_DIM), paid only in steps where the head
// evicts (a burst every ~B/4 steps). Each thread owns the slots s = lid, lid + WG, ... and alone
// writes their score; r-kv parks redundancy there between the two softmax reductions.
// The host joins paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, physical) and position-rank.wgsl to this file.
// Dispatch: (KV_HEADS, 1, 1) workgroups of WG threads, one workgroup per KV head.

override KV_HEADS: u32;
override RULE: u32; // one of the RULE_* below: the host finds a rule's number here (kernels/eviction-rules.ts)
const RULE_SNAPKV_D = 0u;
const RULE_R_KV = 1u;
override WINDOW: u32; // queries kept per slot in history
override POOL: u32; // pooling kernel (odd)
override HEAD_DIM: u32 = 1; // r-kv
override LAMBDA: f32 = 0.1; // r-kv: weight of importance
override THRESHOLD: f32 = 0.5; // r-kv: cosine above which a newer key makes an entry redundant
override KV_F16: bool = false; // r-kv: keys as f16 pairs (16-bit models)
override WG: u32 = 64;
override MASK_WORDS: u32; // ceil(positions the context holds / 32): position-rank.wgsl

@group(0) @binding(0) var<storage, read> slotPos: array<i32>;        // (numSlots) absolute position, -1 if empty
@group(0) @binding(1) var<storage, read> blockTable: array<u32>;     // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(2) var<storage, read> headSlots: array<u32>;      // (KV_HEADS) logical slots in use
@group(0) @binding(3) var<storage, read> history: array<f32>;        // (numSlots, WINDOW) last queries' attention
@group(0) @binding(4) var<storage, read> kPool: array<u32>;          // (numSlots, HEAD_DIM) keys after RoPE (r-kv), f32 bits or f16 pairs
@group(0) @binding(5) var<storage, read> limits: array<u32>;         // (KV_HEADS) entries the head may hold
@group(0) @binding(6) var<storage, read> counts: array<u32>;         // (KV_HEADS) entries the head holds
@group(0) @binding(7) var<storage, read_write> score: array<f32>;    // (numSlots) eviction score, lowest goes
@group(0) @binding(8) var<storage, read_write> rankScratch: array<atomic<u32>>; // (KV_HEADS, 2 * MASK_WORDS) position-rank.wgsl's
@group(0) @binding(9) var<storage, read_write> order: array<u32>;    // (numSlots) scratch: at head g's logical slot r, its rank-r entry's logical slot

// K or V element i of the pool (index in elements, as if f32).
fn k_at(i: u32) -> f32 {
  if (KV_F16) {
    return unpack2x16float(kPool[i >> 1u])[i & 1u];
  }
  return bitcast<f32>(kPool[i]);
}

var<workgroup> red: array<f32, WG>;
var<workgroup> redTotal: f32;

// Sum (or max) over the workgroup; every thread gets the same value. Thread 0 folds the partials
// in order and shares the result (the same f32 every thread used to form itself).
fn reduce(lid: u32, v: f32, take_max: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = red[0];
    for (var i = 1u; i < WG; i++) {
      acc = select(acc + red[i], max(acc, red[i]), take_max);
    }
    redTotal = acc;
  }
  workgroupBarrier();
  return redTotal;
}

// What pooling spreads over neighbours: the window's sum (snapkv-d) or mean (r-kv).
fn window_value(phys: u32) -> f32 {
  var sum = 0.0;
  for (var r = 0u; r < WINDOW; r++) {
    sum += history[phys * WINDOW + r];
  }
  return select(sum, sum / f32(WINDOW), RULE == RULE_R_KV);
}

// The pooled window value of the entry of rank r among the head's live entries: snapkv-d's
// average (divided by POOL whatever the count), r-kv's maximum (from 0). Nearest neighbours first,
// below then above, as the order of f32 additions always was.
fn pooled(g: u32, live: u32, r: u32, own: f32) -> f32 {
  var acc = select(own, max(0.0, own), RULE == RULE_R_KV);
  for (var k = 1u; k <= POOL / 2u && k <= r; k++) {
    let v = window_value(physical(g, order[physical(g, r - k)]));
    acc = select(acc + v, max(acc, v), RULE == RULE_R_KV);
  }
  for (var k = 1u; k <= POOL / 2u && r + k < live; k++) {
    let v = window_value(physical(g, order[physical(g, r + k)]));
    acc = select(acc + v, max(acc, v), RULE == RULE_R_KV);
  }
  return select(acc / f32(POOL), acc, RULE == RULE_R_KV);
}

// position-rank.wgsl's view of a head: the position at logical slot s, or -1.
fn entry_position(g: u32, s: u32) -> i32 {
  return slotPos[physical(g, s)];
}

// Lists head g's entries by rank in order; returns how many there are.
fn rank_entries(g: u32, n: u32, lid: u32) -> u32 {
  let region = g * 2u * MASK_WORDS;
  rank_by_position(g, n, region, lid);
  for (var s = lid; s < n; s += WG) {
    let pos = slotPos[physical(g, s)];
    if (pos >= 0) {
      order[physical(g, entry_rank(g, n, region, s, pos))] = s;
    }
  }
  storageBarrier();
  workgroupBarrier();
  return ranked_count();
}

fn key_norm(phys: u32) -> f32 {
  var sq = 0.0;
  for (var d = 0u; d < HEAD_DIM; d++) {
    let x = k_at(phys * HEAD_DIM + d);
    sq += x * x;
  }
  return sqrt(sq) + 1e-8;
}

// r-kv: (sum of cosines to the other entries) - (the cosine to the newest similar one).
fn redundancy_sum(g: u32, n: u32, s: u32, phys: u32) -> f32 {
  let norm = key_norm(phys);
  var sum = 0.0;
  var newestPos = -1;
  var newestCos = 0.0;
  for (var o = 0u; o < n; o++) {
    let oPhys = physical(g, o);
    let oPos = slotPos[oPhys];
    if (o == s || oPos < 0) {
      continue;
    }
    var dot = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) {
      dot += k_at(phys * HEAD_DIM + d) * k_at(oPhys * HEAD_DIM + d);
    }
    let c = dot / (norm * key_norm(oPhys));
    sum += c;
    if (c > THRESHOLD && oPos > newestPos) {
      newestPos = oPos;
      newestCos = c;
    }
  }
  return sum - newestCos;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wg.x;
  // A head that keeps its entries this step needs no scores: scan nothing.
  let n = select(0u, min(headSlots[g], MAX_PAGES * PAGE_SIZE), counts[g] >= limits[g]);
  let live = rank_entries(g, n, lid);
  let region = g * 2u * MASK_WORDS;

  if (RULE == RULE_SNAPKV_D) {
    for (var s = lid; s < n; s += WG) {
      let phys = physical(g, s);
      let pos = slotPos[phys];
      if (pos >= 0) {
        score[phys] = pooled(g, live, entry_rank(g, n, region, s, pos), window_value(phys));
      }
    }
    return;
  }

  // r-kv: the head's entry count, then redundancy and its softmax, then the score.
  var mine = 0.0;
  var localMax = -3.0e38;
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    if (slotPos[phys] >= 0) {
      mine += 1.0;
    }
  }
  let count = reduce(lid, mine, false);
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    if (slotPos[phys] >= 0) {
      let r = redundancy_sum(g, n, s, phys) / count;
      score[phys] = r;
      localMax = max(localMax, r);
    }
  }
  let m = reduce(lid, localMax, true);
  var localSum = 0.0;
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    if (slotPos[phys] >= 0) {
      localSum += exp(score[phys] - m);
    }
  }
  let z = reduce(lid, localSum, false);
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (pos >= 0) {
      let importance = pooled(g, live, entry_rank(g, n, region, s, pos), window_value(phys));
      score[phys] = LAMBDA * importance - (1.0 - LAMBDA) * exp(score[phys] - m) / z;
    }
  }
}
