// Folds one step's attention into the eviction policy's per-slot state, for every KV head of a
// layer (src/policies/cpu-chooser.ts observe + admit, on the GPU). Query row t sits at position
// p = step.pos_start + t. Over the logical slots s < headSlots[g] of KV head g, slot s lives at
// physical slot phys = physical(g, s) (paged-slot.wgsl) and holds an entry iff slotPos[phys] >= 0.
// Its attention from row t is the mean over the group's query heads
//   a[s] = (1/G) sum_{h in [g*G, (g+1)*G)} probs[t, h, s]      if slotPos[phys] <= p, else 0
// (entries newer than the query were masked; their probs are not read).
// First, entries written this step (pos_start <= slotPos < pos_start + rows) are admitted:
// score = INIT (crystal's starting CRF; 0 for the others), stamp = slotPos (crystal) or 0, and
// (window) history = 0. Then, for each row t in order, by RULE (numbered below
// by the RULE_* constants):
//   RULE_H2O accumulate:  score = DECAY * score + a (h2o: DECAY 1; the decayed heavy hitter below 1)
//   RULE_TOVA replace:    score = a
//   RULE_WINDOW (snapkv-d, r-kv, laprox): history[phys, p % WINDOW] = a, the ring of the last
//                        WINDOW queries' attention that policy-score / select-model read
//   RULE_CRYSTAL LRFU:   theta = the largest value with sum_{a >= theta} a >= P * sum a; if
//                        theta > 0, each entry with a >= theta is hit:
//                        score = LAMBDA^(p - stamp) * score + 1, stamp = p
// theta is found exactly by bisection over the u32 bit patterns of non-negative f32 (ordered like
// the values): 31 fixed halvings of [0, +inf), each one reduction of the mass above the midpoint.
// Each thread owns the slots s = lid, lid + WG, ...; it alone reads and writes their state, so
// rows need no barrier except inside the reductions.
// The host joins step.wgsl (Step) and paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, physical).
// Dispatch: (KV_HEADS, 1, 1) workgroups of WG threads, one workgroup per KV head.

override HEADS: u32;
override KV_HEADS: u32;
override RULE: u32; // one of the RULE_* below: the host finds a rule's number here (kernels/eviction-rules.ts)
const RULE_H2O = 1u;
const RULE_TOVA = 2u;
const RULE_CRYSTAL = 3u;
const RULE_WINDOW = 4u;
override LAMBDA: f32 = 0.6; // crystal decay per step
override P: f32 = 0.9; // crystal hit mass
override INIT: f32 = 0.0; // crystal: the CRF a new entry starts with
override DECAY: f32 = 1.0; // h2o: the factor the accumulated attention keeps per query
override WINDOW: u32 = 1; // window: queries kept per slot
override WG: u32 = 64;

const INF_BITS = 0x7f800000u; // +inf: no entry has a >= it

@group(0) @binding(0) var<uniform> step: Step;                      // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> probs: array<f32>;         // (rows, HEADS, MAX_PAGES * PAGE_SIZE)
@group(0) @binding(2) var<storage, read> slotPos: array<i32>;       // (numSlots) absolute position, -1 if empty
@group(0) @binding(3) var<storage, read> blockTable: array<u32>;    // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(4) var<storage, read> headSlots: array<u32>;     // (KV_HEADS) logical slots in use
@group(0) @binding(5) var<storage, read_write> score: array<f32>;   // (numSlots) policy score
@group(0) @binding(6) var<storage, read_write> stamp: array<f32>;   // (numSlots) crystal: step of last hit
@group(0) @binding(7) var<storage, read_write> history: array<f32>; // (numSlots, WINDOW) window: ring by query position

var<workgroup> red: array<f32, WG>;
var<workgroup> redTotal: f32;

// Attention of row t's query group on logical slot s (0 for entries newer than p); -1 if empty.
fn attention(g: u32, t: u32, s: u32, p: i32) -> f32 {
  let pos = slotPos[physical(g, s)];
  if (pos < 0) {
    return -1.0;
  }
  if (pos > p) {
    return 0.0;
  }
  let group = HEADS / KV_HEADS;
  let row = (t * HEADS + g * group) * (MAX_PAGES * PAGE_SIZE) + s;
  var sum = 0.0;
  for (var q = 0u; q < group; q++) {
    sum += probs[row + q * (MAX_PAGES * PAGE_SIZE)];
  }
  return sum / f32(group);
}

// Sum over the workgroup. Every thread adds the partials in the same order, so all get the same
// value; two barriers, whatever WG is (barriers are what costs on SwiftShader).
// Thread 0 adds the WG partial sums in order and shares the total: the same f32 sum every thread
// used to form itself, at a WG-th of the work (which is what an emulated GPU pays for).
fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  if (lid == 0u) {
    var sum = 0.0;
    for (var i = 0u; i < WG; i++) {
      sum += red[i];
    }
    redTotal = sum;
  }
  workgroupBarrier();
  return redTotal;
}

// Mass of the entries with a >= bitcast<f32>(bits), over the slots this thread owns.
fn mass_above(g: u32, t: u32, n: u32, p: i32, lid: u32, bits: u32) -> f32 {
  let th = bitcast<f32>(bits);
  var m = 0.0;
  for (var s = lid; s < n; s += WG) {
    let a = attention(g, t, s, p);
    if (a >= th) {
      m += a;
    }
  }
  return m;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wg.x;
  let n = min(headSlots[g], MAX_PAGES * PAGE_SIZE);
  let first = i32(step.pos_start);
  let last = i32(step.pos_start + step.real_rows); // exclusive; the probe's rows are never kept

  // Admit this step's new entries before any row updates them.
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (pos >= first && pos < last) {
      score[phys] = select(0.0, INIT, RULE == RULE_CRYSTAL);
      stamp[phys] = select(0.0, f32(pos), RULE == RULE_CRYSTAL);
      if (RULE == RULE_WINDOW) {
        for (var r = 0u; r < WINDOW; r++) {
          history[phys * WINDOW + r] = 0.0;
        }
      }
    }
  }

  for (var t = 0u; t < step.real_rows; t++) { // the probe's rows are folded by probe-fold
    let p = i32(step.pos_start + t);
    var theta = 0.0;
    if (RULE == RULE_CRYSTAL) {
      let total = reduce_sum(lid, mass_above(g, t, n, p, lid, 0u));
      let want = P * total;
      var lo = 0u; // mass(a >= lo) >= want
      var hi = INF_BITS; // mass(a >= hi) < want (when want > 0)
      for (var i = 0u; i < 31u; i++) {
        let mid = lo + (hi - lo) / 2u;
        let m = reduce_sum(lid, mass_above(g, t, n, p, lid, mid));
        if (m >= want) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      theta = select(0.0, bitcast<f32>(lo), total > 0.0);
    }
    for (var s = lid; s < n; s += WG) {
      let a = attention(g, t, s, p);
      if (a < 0.0) {
        continue;
      }
      let phys = physical(g, s);
      if (RULE == RULE_H2O) {
        score[phys] = DECAY * score[phys] + a;
      } else if (RULE == RULE_TOVA) {
        score[phys] = a;
      } else if (RULE == RULE_WINDOW) {
        history[phys * WINDOW + u32(p) % WINDOW] = a;
      } else if (RULE == RULE_CRYSTAL && theta > 0.0 && a >= theta) {
        score[phys] = pow(LAMBDA, f32(p) - stamp[phys]) * score[phys] + 1.0;
        stamp[phys] = f32(p);
      }
    }
  }
}
