// Moves KV entries to new slots when a head is compacted (src/kv/compact.ts chooses the moves:
// the survivors past a shrunk head's first ceil(n / pageSize) pages go into its holes). For move
// m with (src, dst) = (moves[2m], moves[2m + 1]), physical slots of one pool shared by all layers:
//   kPool[dst, :] = kPool[src, :];  vPool[dst, :] = vPool[src, :]
//   slotPos[dst] = slotPos[src];    slotPos[src] = -1        (the source page goes back to the pool)
//   score[dst] = score[src];        stamp[dst] = stamp[src]  (the policy's per-slot state)
//   history[dst, :] = history[src, :]                        (WINDOW values per slot; none if 0)
//   probe[dst] = probe[src]                                  (the answer-first probe's score, if PROBE)
// Sources and destinations are disjoint (the host asserts it), so every move runs at once and
// there is nothing to order. An exact copy, of words: HEAD_DIM per slot, or HEAD_DIM / 2 when the
// pools hold f16 pairs (KV_F16).
// Dispatch: (min(count, groups_x), ceil(count / groups_x), 1) workgroups of WG threads: one move
// per workgroup (m = wid.y * groups_x + wid.x; a grid dimension holds at most 65535), the threads
// striding over HEAD_DIM.

struct Params {
  count: u32,    // moves
  groups_x: u32, // workgroups per grid row
  _pad0: u32,
  _pad1: u32,
}

override HEAD_DIM: u32;
override KV_F16: bool = false;
override WORDS: u32 = select(HEAD_DIM, HEAD_DIM / 2u, KV_F16); // derived: words per slot
override WINDOW: u32 = 0; // the policy's history values per slot
override PROBE: bool = false; // the policy keeps a probe score per slot
override WG: u32 = 32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> moves: array<u32>;          // (count, 2) [src, dst] physical slots
@group(0) @binding(2) var<storage, read_write> kPool: array<u32>;    // (numSlots, WORDS) keys after RoPE, f32 or f16 pairs
@group(0) @binding(3) var<storage, read_write> vPool: array<u32>;    // (numSlots, WORDS)
@group(0) @binding(4) var<storage, read_write> slotPos: array<i32>;  // (numSlots) absolute position, -1 = empty
@group(0) @binding(5) var<storage, read_write> score: array<f32>;    // (numSlots) policy score
@group(0) @binding(6) var<storage, read_write> stamp: array<f32>;    // (numSlots) crystal: step of the last hit
@group(0) @binding(7) var<storage, read_write> history: array<f32>;  // (numSlots, WINDOW) the last queries' attention
@group(0) @binding(8) var<storage, read_write> probe: array<f32>;    // (numSlots) the probe score; a placeholder unless PROBE

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m = wid.y * params.groups_x + wid.x;
  if (m >= params.count) {
    return;
  }
  let src = moves[2u * m];
  let dst = moves[2u * m + 1u];
  for (var d = lid; d < WORDS; d += WG) {
    kPool[dst * WORDS + d] = kPool[src * WORDS + d];
    vPool[dst * WORDS + d] = vPool[src * WORDS + d];
  }
  for (var r = lid; r < WINDOW; r += WG) {
    history[dst * WINDOW + r] = history[src * WINDOW + r];
  }
  if (lid == 0u) {
    slotPos[dst] = slotPos[src];
    slotPos[src] = -1;
    score[dst] = score[src];
    stamp[dst] = stamp[src];
    if (PROBE) {
      probe[dst] = probe[src];
    }
  }
}
