// The lowest candidate over a workgroup, for the shaders joined with it (select-victim,
// select-model), which declare WG and TIE_BY_POSITION: bool. A candidate is (score, position,
// logical slot), slot NONE for "no candidate"; the order is by score, then (TIE_BY_POSITION) the
// older position, then the lower logical slot. select-victim also uses redPos and redSlot for
// its other reductions.

const NONE = 0xffffffffu; // no candidate

var<workgroup> redScore: array<f32, WG>;
var<workgroup> redPos: array<i32, WG>;
var<workgroup> redSlot: array<u32, WG>;

// (sc, pos, slot) below the best so far (bestSlot NONE: no best yet); a NONE slot never is.
fn better(sc: f32, pos: i32, slot: u32, bestScore: f32, bestPos: i32, bestSlot: u32) -> bool {
  if (bestSlot == NONE) {
    return slot != NONE;
  }
  if (slot == NONE) {
    return false;
  }
  if (sc != bestScore) {
    return sc < bestScore;
  }
  if (TIE_BY_POSITION && pos != bestPos) {
    return pos < bestPos;
  }
  return slot < bestSlot;
}

struct Candidate {
  score: f32,
  pos: i32,
  slot: u32,
}

// Every thread offers its lowest candidate; thread 0 gets the workgroup's lowest (the others get
// their own back). Thread 0 folds the WG offers in order: one barrier, a WG-th of the work of every
// thread folding (which is what an emulated GPU pays for). Callers barrier before reusing the arrays.
fn reduce_argmin(lid: u32, mine: Candidate) -> Candidate {
  redScore[lid] = mine.score;
  redPos[lid] = mine.pos;
  redSlot[lid] = mine.slot;
  workgroupBarrier();
  var best = mine;
  if (lid == 0u) {
    for (var i = 1u; i < WG; i++) {
      if (better(redScore[i], redPos[i], redSlot[i], best.score, best.pos, best.slot)) {
        best = Candidate(redScore[i], redPos[i], redSlot[i]);
      }
    }
  }
  return best;
}
