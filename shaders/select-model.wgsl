// LaProx's model-wide choice (src/policies/cpu-chooser.ts fromModel, once per eviction): the
// cache drops want = min(params.evict, CAP) entries across every (layer, KV head). Over the
// logical slots s < headSlots[l, h] of head (l, h), slot s lives at physical slot
// paged_slot(l * TABLE_STRIDE + h * MAX_PAGES, s) (paged-slot.wgsl) and holds an entry iff
// slotPos >= 0.
//   raw     = sqrt(sum_r history[phys, r]^2) * stamp[phys]  (window attention norm x value norm)
//   pooled  = (raw of the entry and its POOL / 2 nearest entries on each side in (position,
//             logical slot) order) / POOL                   (src/policies/pooling.ts)
//   mean(l) = the mean pooled value of layer l's entries, 1 if that is 0
//   victim  = the candidate with the lowest (pooled / mean(l), position, layer, head, slot)
// Candidates are select-victim's: not among the SINKS lowest or the RECENT highest positions of
// their head, nor below params.protect_below. With multiplicity like a sort, p is past the sinks
// iff #{entries below p} >= min(SINKS, n) and before the recent window iff #{entries above p} >=
// RECENT; evicting a candidate changes neither answer for the entries left.
// After each choice the victim's head is re-pooled and its layer's mean follows, as the CPU chooser
// re-scores before each eviction; a head's own best candidate and pooled sum are kept per head,
// so a choice costs one head's pooling plus a scan over the heads. Pooling a head ranks its
// entries (position-rank.wgsl: a mask over positions and a prefix count, O(n + MASK_WORDS)),
// lists them by rank in `order` (indexed by the head's own logical slots, so heads never
// overlap), then sums each entry's POOL neighbours from the list.
// victims: (CAP, 2) pairs (layer * KV_HEADS + head, logical slot) in eviction order; NOT_FULL
// ends a shorter list; NO_CANDIDATE where nothing may go (the CPU engine treats that as an error).
// `score` is scratch: each entry's raw value, -1 once chosen (gone for the later choices).
// The host joins paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, paged_slot), workgroup-argmin.wgsl
// (NONE, redScore, redPos, redSlot, better, reduce_argmin: the order above) and position-rank.wgsl
// to this file.
// Dispatch: (1, 1, 1): one workgroup of WG threads for the whole model (the choices are sequential).

struct Params {
  protect_below: u32, // positions below are kept (the prompt in think mode), else 0
  t: u32,             // unused here (select-victim's step)
  burst: u32,         // unused here
  evict: u32,         // entries the model must drop
}

override LAYERS: u32;
override KV_HEADS: u32;
override TABLE_STRIDE: u32; // u32s between layers in blockTable
override SLOTS_STRIDE: u32; // u32s between layers in headSlots
override SINKS: u32;
override RECENT: u32;
override WINDOW: u32; // queries kept per slot in history
override POOL: u32; // pooling kernel (odd)
override CAP: u32; // most victims per dispatch
override WG: u32 = 64;
override MASK_WORDS: u32; // ceil(positions the context holds / 32): position-rank.wgsl
override HEADS_N: u32 = LAYERS * KV_HEADS; // derived, never set by the host

const NOT_FULL = 0xffffffffu;
const NO_CANDIDATE = 0xfffffffeu;
const TIE_BY_POSITION = true; // reduce_argmin's order: (value, position, logical slot)
const CANDIDATE = 0x80000000u; // order: the flag beside the logical slot

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> slotPos: array<i32>;        // (numSlots) absolute position, -1 if empty
@group(0) @binding(2) var<storage, read> blockTable: array<u32>;     // (LAYERS, TABLE_STRIDE): head (l, h)'s pages at [l * TABLE_STRIDE + h * MAX_PAGES ..]
@group(0) @binding(3) var<storage, read> headSlots: array<u32>;      // (LAYERS, SLOTS_STRIDE) logical slots in use per head
@group(0) @binding(4) var<storage, read> history: array<f32>;        // (numSlots, WINDOW) last queries' attention
@group(0) @binding(5) var<storage, read> stamp: array<f32>;          // (numSlots) laprox: value norm
@group(0) @binding(6) var<storage, read_write> score: array<f32>;    // (numSlots) scratch: raw, -1 once chosen
@group(0) @binding(7) var<storage, read_write> victims: array<u32>;  // (CAP, 2) (layer * KV_HEADS + head, logical slot)
@group(0) @binding(8) var<storage, read_write> order: array<u32>;    // (numSlots) scratch: at head's logical slot r, its rank-r entry's slot | CANDIDATE
@group(0) @binding(9) var<storage, read_write> rankScratch: array<atomic<u32>>; // (2 * MASK_WORDS) position-rank.wgsl's, one head at a time

// Per head (layer * KV_HEADS + head): pooled sum and entry count, the best candidate.
var<workgroup> headSum: array<f32, HEADS_N>;
var<workgroup> headCount: array<u32, HEADS_N>;
var<workgroup> bestVal: array<f32, HEADS_N>;
var<workgroup> bestPos: array<i32, HEADS_N>;
var<workgroup> bestSlot: array<u32, HEADS_N>;
var<workgroup> redSum: array<f32, WG>;

// The physical slot of logical slot s of head (layer * KV_HEADS + h).
fn head_slot(head: u32, s: u32) -> u32 {
  return paged_slot((head / KV_HEADS) * TABLE_STRIDE + (head % KV_HEADS) * MAX_PAGES, s);
}

fn slots_of(head: u32) -> u32 {
  return min(headSlots[(head / KV_HEADS) * SLOTS_STRIDE + head % KV_HEADS], MAX_PAGES * PAGE_SIZE);
}

// The entry at logical slot s if it is still there (not chosen): its position, else -1.
fn live(head: u32, s: u32) -> i32 {
  let phys = head_slot(head, s);
  let pos = slotPos[phys];
  return select(-1, pos, pos >= 0 && score[phys] >= 0.0);
}

// position-rank.wgsl's view of a head: its live entries.
fn entry_position(head: u32, s: u32) -> i32 {
  return live(head, s);
}

// Re-pools one head: its pooled sum, entry count and best candidate.
fn refresh(head: u32, lid: u32) {
  let n = slots_of(head);
  // Each live entry's rank in (position, logical slot) order (position-rank.wgsl), and whether it
  // is a candidate: past the sinks iff #{below} >= min(SINKS, count), before the recent window iff
  // #{above} >= RECENT (with distinct positions, below = rank and above = count - 1 - rank).
  rank_by_position(head, n, 0u, lid);
  let live_n = ranked_count();
  for (var s = lid; s < n; s += WG) {
    let pos = live(head, s);
    if (pos < 0) {
      continue;
    }
    let rank = entry_rank(head, n, 0u, s, pos);
    var below = rank;
    var above = live_n - 1u - rank;
    if (positions_twice()) {
      // With multiplicity, like a sort: the entries strictly below and above this position.
      below = 0u;
      above = 0u;
      for (var o = 0u; o < n; o++) {
        let p = live(head, o);
        below += u32(p >= 0 && p < pos);
        above += u32(p > pos);
      }
    }
    let candidate = pos >= i32(params.protect_below) && below >= min(SINKS, live_n) && above >= RECENT;
    order[head_slot(head, rank)] = s | select(0u, CANDIDATE, candidate);
  }
  storageBarrier();
  workgroupBarrier();

  // Pooled values by rank: the entry and its POOL / 2 neighbours each side, divided by POOL.
  var sum = 0.0;
  var bv = 0.0;
  var bp = 0;
  var bs = NONE;
  let half = i32(POOL / 2u);
  for (var r = lid; r < live_n; r += WG) {
    let e = order[head_slot(head, r)];
    var acc = 0.0;
    for (var k = max(0, i32(r) - half); k <= min(i32(live_n) - 1, i32(r) + half); k++) {
      acc += score[head_slot(head, order[head_slot(head, u32(k))] & ~CANDIDATE)];
    }
    let v = acc / f32(POOL);
    sum += v;
    let s = e & ~CANDIDATE;
    let pos = slotPos[head_slot(head, s)];
    if ((e & CANDIDATE) != 0u && better(v, pos, s, bv, bp, bs)) {
      bv = v;
      bp = pos;
      bs = s;
    }
  }
  redSum[lid] = sum;
  let best = reduce_argmin(lid, Candidate(bv, bp, bs)); // its barrier publishes redSum too
  if (lid == 0u) {
    for (var i = 1u; i < WG; i++) {
      sum += redSum[i];
    }
    headSum[head] = sum;
    headCount[head] = live_n;
    bestVal[head] = best.score;
    bestPos[head] = best.pos;
    bestSlot[head] = best.slot;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let want = min(params.evict, CAP);
  if (want == 0u) {
    if (lid == 0u) {
      victims[0] = NOT_FULL;
    }
    return;
  }

  // Raw values of every entry, then every head's pooling.
  for (var head = 0u; head < HEADS_N; head++) {
    for (var s = lid; s < slots_of(head); s += WG) {
      let phys = head_slot(head, s);
      if (slotPos[phys] < 0) {
        continue;
      }
      var sq = 0.0;
      for (var r = 0u; r < WINDOW; r++) {
        let a = history[phys * WINDOW + r];
        sq += a * a;
      }
      score[phys] = sqrt(sq) * stamp[phys];
    }
  }
  storageBarrier();
  for (var head = 0u; head < HEADS_N; head++) {
    refresh(head, lid);
  }

  for (var k = 0u; k < want; k++) {
    // Every thread scans the heads alike: the same choice everywhere, no broadcast needed.
    var choice = NONE;
    var cRatio = 0.0;
    var cPos = 0;
    for (var l = 0u; l < LAYERS; l++) {
      var sum = 0.0;
      var count = 0u;
      for (var h = 0u; h < KV_HEADS; h++) {
        sum += headSum[l * KV_HEADS + h];
        count += headCount[l * KV_HEADS + h];
      }
      var mean = sum / f32(max(1u, count));
      if (!(mean != 0.0)) {
        mean = 1.0;
      }
      for (var h = 0u; h < KV_HEADS; h++) {
        let head = l * KV_HEADS + h;
        if (bestSlot[head] == NONE) {
          continue;
        }
        let ratio = bestVal[head] / mean;
        // Heads are scanned in (layer, head) order: a tie keeps the earlier one.
        if (choice == NONE || ratio < cRatio || (ratio == cRatio && bestPos[head] < cPos)) {
          choice = head;
          cRatio = ratio;
          cPos = bestPos[head];
        }
      }
    }
    workgroupBarrier(); // everyone has read the head arrays before refresh rewrites them
    if (lid == 0u) {
      if (choice == NONE) {
        victims[2u * k] = NO_CANDIDATE;
        victims[2u * k + 1u] = 0u;
      } else {
        victims[2u * k] = choice;
        victims[2u * k + 1u] = bestSlot[choice];
        score[head_slot(choice, bestSlot[choice])] = -1.0;
      }
    }
    storageBarrier();
    refresh(select(choice, 0u, choice == NONE), lid);
  }
  if (lid == 0u && want < CAP) {
    victims[2u * want] = NOT_FULL;
  }
}
