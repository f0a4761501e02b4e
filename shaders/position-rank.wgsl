// Each entry's rank among its head's entries in (position, logical slot) order, the order the CPU
// choosers sort by (src/policies/pooling.ts), in O(n + MASK_WORDS) per head rather than by
// comparing every pair of entries (policy-score's pooling, select-model's). Each entry sets its
// position's bit in a mask; a prefix count over the mask's words gives each word's first rank; an
// entry's rank is that plus the set bits below its own in its word.
// Positions within one head are distinct in the engine (rope-append writes a position once per
// head, and a rewind drops positions before they are written again). Should a head ever hold one
// position twice, the mask sees it and that head's ranks fall back to comparing every pair.
// The joining shader declares WG, MASK_WORDS (ceil(positions the context holds / 32)),
//   rankScratch: array<atomic<u32>>   regions of 2 * MASK_WORDS: the mask, then each word's prefix
//   fn entry_position(head: u32, s: u32) -> i32   the position at the head's logical slot s, or -1
// and calls rank_by_position in uniform control flow, then entry_rank, ranked_count and positions_twice.

var<workgroup> rankChunk: array<u32, WG>; // set bits in each thread's run of words
var<workgroup> rankCount: atomic<u32>; // entries marked
var<workgroup> rankTwice: atomic<u32>; // 1 if a position was marked twice

// Marks the head's n logical slots' positions in the mask at `region` and counts each word's prefix.
fn rank_by_position(head: u32, n: u32, region: u32, lid: u32) {
  storageBarrier();
  workgroupBarrier(); // every earlier rank has been read
  for (var w = lid; w < MASK_WORDS; w += WG) {
    atomicStore(&rankScratch[region + w], 0u);
  }
  if (lid == 0u) {
    atomicStore(&rankCount, 0u);
    atomicStore(&rankTwice, 0u);
  }
  storageBarrier();
  workgroupBarrier();
  for (var s = lid; s < n; s += WG) {
    let pos = entry_position(head, s);
    if (pos >= 0) {
      let bit = 1u << (u32(pos) % 32u);
      let before = atomicOr(&rankScratch[region + u32(pos) / 32u], bit);
      atomicAdd(&rankCount, 1u);
      if ((before & bit) != 0u) {
        atomicStore(&rankTwice, 1u);
      }
    }
  }
  storageBarrier();
  workgroupBarrier(); // every mark is in
  // Thread lid takes a contiguous run of words; the runs' counts give each run's start.
  let per = (MASK_WORDS + WG - 1u) / WG;
  let first = min(lid * per, MASK_WORDS);
  let end = min(first + per, MASK_WORDS);
  var total = 0u;
  for (var w = first; w < end; w++) {
    total += countOneBits(atomicLoad(&rankScratch[region + w]));
  }
  rankChunk[lid] = total;
  workgroupBarrier();
  var below = 0u;
  for (var i = 0u; i < lid; i++) {
    below += rankChunk[i];
  }
  for (var w = first; w < end; w++) {
    atomicStore(&rankScratch[region + MASK_WORDS + w], below);
    below += countOneBits(atomicLoad(&rankScratch[region + w]));
  }
  storageBarrier();
  workgroupBarrier();
}

// The rank of the entry at logical slot s (position pos) of the head rank_by_position marked.
fn entry_rank(head: u32, n: u32, region: u32, s: u32, pos: i32) -> u32 {
  if (positions_twice()) {
    var rank = 0u;
    for (var o = 0u; o < n; o++) {
      let p = entry_position(head, o);
      rank += u32(p >= 0 && (p < pos || (p == pos && o < s)));
    }
    return rank;
  }
  let p = u32(pos);
  let w = p / 32u;
  let lower = atomicLoad(&rankScratch[region + w]) & ((1u << (p % 32u)) - 1u);
  return atomicLoad(&rankScratch[region + MASK_WORDS + w]) + countOneBits(lower);
}

// Whether the head rank_by_position marked holds some position twice (ranks then come from comparing).
fn positions_twice() -> bool {
  return atomicLoad(&rankTwice) != 0u;
}

// The number of entries rank_by_position marked.
fn ranked_count() -> u32 {
  return atomicLoad(&rankCount);
}
