// Picks the entries to evict from every full KV head of a layer (src/kernels/select.ts
// markCandidates + lowestCandidate, on the GPU). Over the logical slots s < headSlots[g] of KV
// head g, slot s lives at physical slot phys = physical(g, s) (paged-slot.wgsl) and holds an
// entry iff slotPos[phys] >= 0. Head g is full iff counts[g] >= limits[g]; then
//   candidates: entries with pos > sinkCut, pos < recentCut, pos >= params.protect_below, where
//     sinkCut   = the SINKS-th lowest position of the head's entries (the largest if fewer; none if 0)
//     recentCut = the RECENT-th highest position (no candidate at all if fewer; none if 0)
//   eviction score by RULE (numbered by the RULE_* constants below):
//     RULE_POSITION (streaming), RULE_SCORE the stored score (h2o, snapkv-d, r-kv),
//     RULE_CRYSTAL decayed score * LAMBDA^(params.t - stamp), compared as its log2,
//     RULE_RANDOM a hash of (SEED, params.t, phys) in [0, 1) (kernels/random-score.ts),
//     RULE_PROBE (the answer-first probe, policies/answer-probe.ts): over the head's entries,
//       base / max|base| + PROBE_WEIGHT * probe / max(probe), base the position (PROBE_BASE 0)
//       or the stored score (1); the maxima over every entry of the head, protected or not
//     RULE_LAYER (tova): the mean of score over the layer's KV heads at the same logical slot (TOVA
//       evicts one position from every head, so a layer's heads hold the same positions in the
//       same logical slots, and every head of the layer picks the same slot)
//   CAP 1: victims[g] = logical slot of the lowest (score, logical slot) candidate; the layer
//     rule orders by (score, position, logical slot) (TIE_BY_POSITION: the CPU chooser's fromLayer takes the older
//     position). With NEAR_TIE > 0 every score within NEAR_TIE (relative) of the lowest
//     candidate's counts as equal to it (select.ts lowestPosition).
//   CAP > 1 (bursts, r-kv): the head drops want = min(CAP, counts[g] + 1 - limits[g] + params.burst)
//     entries: victims[g, j] = the candidate of rank j in that order for j < want; NOT_FULL ends
//     a shorter list (one scoring, the k lowest: the CPU chooser's lowest()).
// A head that is not full gets NOT_FULL; a full head without (enough) candidates gets NO_CANDIDATE
// (the CPU engine treats that as an error). The cuts count positions with multiplicity, like a
// sort: each of SINKS (RECENT) passes finds the next lower (higher) distinct position and how many
// entries hold it. Each pass and the final choice is one reduction of two barriers; a burst ranks
// every candidate against every other (O(n^2) per head, only in the steps where a head is full).
// The host joins paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, physical) and workgroup-argmin.wgsl
// (NONE, redScore, redPos, redSlot, better, reduce_argmin) to this file.
// Dispatch: (KV_HEADS, 1, 1) workgroups of WG threads, one workgroup per KV head.

struct Params {
  protect_below: u32, // positions below are kept (the prompt in think mode), else 0
  t: u32,             // the step crystal's decay is taken at
  burst: u32,         // CAP > 1: entries a full head drops beyond its excess
  _pad0: u32,
}

override KV_HEADS: u32;
override RULE: u32; // one of the RULE_* below: the host finds a rule's number here (kernels/eviction-rules.ts)
const RULE_POSITION = 0u;
const RULE_SCORE = 1u;
const RULE_CRYSTAL = 2u;
const RULE_LAYER = 3u;
const RULE_RANDOM = 4u;
const RULE_PROBE = 5u;
override PROBE_WEIGHT: f32 = 10.0; // probe: the probe score's weight against the base rule's
override PROBE_BASE: u32 = 0u; // probe: 0 the position, 1 the stored score
override SEED: u32 = 0; // random: the policy's seed
override SINKS: u32;
override RECENT: u32;
override LAMBDA: f32 = 0.6; // crystal decay per step
override CAP: u32 = 1; // victims per head
override NEAR_TIE: f32 = 0.0; // CAP 1: relative distance from the lowest score that still ties (tova)
override WG: u32 = 64;
override TIE_BY_POSITION: bool = RULE == RULE_LAYER; // derived, never set by the host

const NOT_FULL = 0xffffffffu;
const NO_CANDIDATE = 0xfffffffeu;
const POS_MAX = 0x7fffffff; // above every position
const LOWEST = bitcast<f32>(0xff7fffffu); // -3.4e38: crystal's key for a CRF of 0

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> slotPos: array<i32>;        // (numSlots) absolute position, -1 if empty
@group(0) @binding(2) var<storage, read> blockTable: array<u32>;     // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(3) var<storage, read> headSlots: array<u32>;      // (KV_HEADS) logical slots in use
@group(0) @binding(4) var<storage, read> score: array<f32>;          // (numSlots) policy score
@group(0) @binding(5) var<storage, read> stamp: array<f32>;          // (numSlots) crystal: step of last hit
@group(0) @binding(6) var<storage, read> limits: array<u32>;         // (KV_HEADS) entries the head may hold
@group(0) @binding(7) var<storage, read> counts: array<u32>;         // (KV_HEADS) entries the head holds
@group(0) @binding(8) var<storage, read_write> victims: array<u32>;  // (KV_HEADS, CAP) logical slots, NOT_FULL / NO_CANDIDATE
@group(0) @binding(9) var<storage, read> probe: array<f32>;          // (numSlots) the probe score (RULE_PROBE; else a placeholder)

var<private> probeNorm: vec2f; // RULE_PROBE: the head's max |base| and max probe, + 1e-9 each

var<workgroup> redOut: vec2i; // thread 0's reduction result, shared
var<workgroup> redMin: f32;

// The next distinct position beyond `prev` (above it if up, below it if down) and how many entries
// hold it; the position is `none` when there is no such entry.
fn next_position(g: u32, n: u32, lid: u32, prev: i32, up: bool, none: i32) -> vec2i {
  var best = none;
  var count = 0u;
  for (var s = lid; s < n; s += WG) {
    let pos = slotPos[physical(g, s)];
    let beyond = select((pos >= 0) && (pos < prev), (pos > prev), up);
    if (beyond) {
      if (pos == best) {
        count++;
      } else if ((up && pos < best) || (!up && pos > best) || best == none) {
        best = pos;
        count = 1u;
      }
    }
  }
  redPos[lid] = best;
  redSlot[lid] = count;
  workgroupBarrier();
  // Thread 0 reduces and shares the result (every thread doing it costs WG times the work).
  if (lid == 0u) {
    var m = none;
    for (var i = 0u; i < WG; i++) {
      let v = redPos[i];
      if (v != none && (m == none || (up && v < m) || (!up && v > m))) {
        m = v;
      }
    }
    var c = 0u;
    for (var i = 0u; i < WG; i++) {
      if (redPos[i] == m) {
        c += redSlot[i];
      }
    }
    redOut = vec2i(m, i32(c));
  }
  workgroupBarrier();
  return redOut;
}

// A 32-bit integer hash (lowbias32); the top 24 bits as a float in [0, 1), exact in f32 and f64.
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn random_score(t: u32, phys: u32) -> f32 {
  return f32(mix32(mix32(SEED ^ mix32(t)) ^ phys) >> 8u) / 16777216.0;
}

// The eviction score of logical slot s (entry at phys, position pos) of head g.
fn eviction_score(g: u32, s: u32, phys: u32, pos: i32) -> f32 {
  if (RULE == RULE_SCORE) {
    return score[phys];
  }
  if (RULE == RULE_CRYSTAL) {
    // log2 of the decayed score: the same order, without the f32 underflow of LAMBDA^(t - stamp)
    // (0.6^300 ~ 1e-67) that would tie every long-missed entry at 0.
    let crf = score[phys];
    return select(LOWEST, log2(crf) + (f32(params.t) - stamp[phys]) * log2(LAMBDA), crf > 0.0);
  }
  if (RULE == RULE_RANDOM) {
    return random_score(params.t, phys);
  }
  if (RULE == RULE_PROBE) {
    return probe_base(phys, pos) / probeNorm.x + (PROBE_WEIGHT * probe[phys]) / probeNorm.y;
  }
  if (RULE == RULE_LAYER) {
    // The CPU chooser's order of operations (fromLayer): sum over heads of score / KV_HEADS.
    var sum = 0.0;
    for (var h = 0u; h < KV_HEADS; h++) {
      sum += score[physical(h, s)] / f32(KV_HEADS);
    }
    return sum;
  }
  return f32(pos);
}

fn probe_base(phys: u32, pos: i32) -> f32 {
  return select(f32(pos), score[phys], PROBE_BASE == 1u);
}

// RULE_PROBE's normalisers: the largest |base| and probe score over the head's entries, into probeNorm.
fn probe_maxima(g: u32, n: u32, lid: u32) {
  var base = 0.0;
  var most = 0.0;
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (pos >= 0) {
      base = max(base, abs(probe_base(phys, pos)));
      most = max(most, probe[phys]);
    }
  }
  probeNorm = vec2f(workgroup_max(lid, base), workgroup_max(lid, most)) + 1e-9;
}

// The largest of every thread's `v` (thread 0 reduces and shares it through redMin).
fn workgroup_max(lid: u32, v: f32) -> f32 {
  redScore[lid] = v;
  workgroupBarrier();
  if (lid == 0u) {
    var m = v;
    for (var i = 1u; i < WG; i++) {
      m = max(m, redScore[i]);
    }
    redMin = m;
  }
  workgroupBarrier();
  let r = redMin;
  workgroupBarrier(); // everyone has read redMin before it is reused
  return r;
}

fn is_candidate(pos: i32, sinkCut: i32, recentCut: i32) -> bool {
  return pos >= 0 && pos > sinkCut && pos < recentCut && pos >= i32(params.protect_below);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wg.x;
  let n = min(headSlots[g], MAX_PAGES * PAGE_SIZE);

  // Sinks: the SINKS lowest positions are kept.
  var sinkCut = -1;
  var taken = 0u;
  var prev = -1;
  for (var i = 0u; i < SINKS; i++) {
    let r = next_position(g, n, lid, prev, true, POS_MAX);
    if (taken < SINKS && r.x != POS_MAX) {
      sinkCut = r.x;
      taken += u32(r.y);
    }
    prev = r.x;
  }
  // Recent window: the RECENT highest positions are kept; fewer entries than that keep all.
  var recentCut = POS_MAX;
  taken = 0u;
  prev = POS_MAX;
  for (var i = 0u; i < RECENT; i++) {
    let r = next_position(g, n, lid, prev, false, -1);
    if (taken < RECENT && r.x != -1) {
      recentCut = r.x;
      taken += u32(r.y);
    }
    prev = r.x;
  }
  if (taken < RECENT) {
    recentCut = -1;
  }

  if (RULE == RULE_PROBE) {
    probe_maxima(g, n, lid);
  }
  let full = counts[g] >= limits[g];
  if (CAP > 1u) {
    burst(g, n, lid, sinkCut, recentCut, full);
    return;
  }

  // Near-ties: the lowest score first, then every score up to `within` counts as that one.
  var lowest = 0.0;
  var within = 0.0;
  if (NEAR_TIE > 0.0) {
    var m = 3.4e38;
    for (var s = lid; s < n; s += WG) {
      let phys = physical(g, s);
      let pos = slotPos[phys];
      if (is_candidate(pos, sinkCut, recentCut)) {
        m = min(m, eviction_score(g, s, phys, pos));
      }
    }
    redScore[lid] = m;
    workgroupBarrier();
    if (lid == 0u) {
      var low = redScore[0];
      for (var i = 1u; i < WG; i++) {
        low = min(low, redScore[i]);
      }
      redMin = low;
    }
    workgroupBarrier();
    lowest = redMin;
    within = lowest + abs(lowest) * NEAR_TIE;
  }

  // The lowest candidate this thread owns.
  var bestScore = 0.0;
  var bestPos = 0;
  var bestSlot = NONE;
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (!is_candidate(pos, sinkCut, recentCut)) {
      continue;
    }
    var sc = eviction_score(g, s, phys, pos);
    if (NEAR_TIE > 0.0 && sc <= within) {
      sc = lowest;
    }
    if (better(sc, pos, s, bestScore, bestPos, bestSlot)) {
      bestScore = sc;
      bestPos = pos;
      bestSlot = s;
    }
  }
  let best = reduce_argmin(lid, Candidate(bestScore, bestPos, bestSlot));
  if (lid == 0u) {
    var victim = select(best.slot, NO_CANDIDATE, best.slot == NONE);
    if (!full) {
      victim = NOT_FULL;
    }
    victims[g] = victim;
  }
}

// CAP > 1: the `want` lowest candidates, each written at its rank (ranks are distinct: the order
// ends in the logical slot).
fn burst(g: u32, n: u32, lid: u32, sinkCut: i32, recentCut: i32, full: bool) {
  var mine = 0u;
  for (var s = lid; s < n; s += WG) {
    if (is_candidate(slotPos[physical(g, s)], sinkCut, recentCut)) {
      mine++;
    }
  }
  redSlot[lid] = mine;
  workgroupBarrier();
  var candidates = 0u;
  for (var i = 0u; i < WG; i++) {
    candidates += redSlot[i];
  }
  var want = 0u;
  if (full) {
    want = min(CAP, counts[g] + 1u - limits[g] + params.burst);
  }
  for (var j = lid; j < CAP; j += WG) {
    if (j >= want) {
      victims[g * CAP + j] = NOT_FULL;
    } else if (j >= candidates) {
      victims[g * CAP + j] = NO_CANDIDATE;
    }
  }
  if (want == 0u) {
    return;
  }
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (!is_candidate(pos, sinkCut, recentCut)) {
      continue;
    }
    let sc = eviction_score(g, s, phys, pos);
    var rank = 0u;
    for (var o = 0u; o < n && rank < want; o++) {
      let oPhys = physical(g, o);
      let oPos = slotPos[oPhys];
      if (o != s && is_candidate(oPos, sinkCut, recentCut) && better(eviction_score(g, o, oPhys, oPos), oPos, o, sc, pos, s)) {
        rank++;
      }
    }
    if (rank < want) {
      victims[g * CAP + rank] = s;
    }
  }
}
