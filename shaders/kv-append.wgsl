// Writes this step's keys and values into the paged KV pool. The host has resolved, for each token
// t and KV head h, the physical slot (page * pageSize + offset) from that head's block table:
//   kPool[slotMap[t, h], d] = k[t, h, d];  vPool[slotMap[t, h], d] = v[t, h, d]
//   slotPos[slotMap[t, h]] = step.pos_start + t   (the absolute position; -1 marks an empty slot,
//                                                  and attention reads this as its valid mask)
// A slot past the end of the pool is skipped, so it can serve as "do not store".
// KV_F16 (16-bit models): the pools hold two halves per word (pack2x16float, no shader-f16
// needed), half the memory; the thread of an even d writes the pair (d, d + 1). Else f32 bits.
// The host joins step.wgsl (Step) to this file.
// Dispatch: (ceil(KV_HEADS * HEAD_DIM / WG), rows, 1) workgroups of WG threads; one thread per
// (h, d) of token t = workgroup_id.y.

override KV_HEADS: u32;
override HEAD_DIM: u32;
override KV_F16: bool = false;
override WG: u32 = 64;

@group(0) @binding(0) var<uniform> step: Step;                       // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> k: array<f32>;              // (rows, KV_HEADS, HEAD_DIM), after RoPE
@group(0) @binding(2) var<storage, read> v: array<f32>;              // (rows, KV_HEADS, HEAD_DIM)
@group(0) @binding(3) var<storage, read> slotMap: array<u32>;        // (rows, KV_HEADS) physical slot
@group(0) @binding(4) var<storage, read_write> kPool: array<u32>;    // (numSlots, HEAD_DIM) f32, or (numSlots, HEAD_DIM / 2) f16 pairs
@group(0) @binding(5) var<storage, read_write> vPool: array<u32>;    // as kPool
@group(0) @binding(6) var<storage, read_write> slotPos: array<i32>;  // (numSlots) absolute position, -1 = empty

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let t = wg.y;
  if (gid.x >= KV_HEADS * HEAD_DIM || t >= step.rows) {
    return;
  }
  let h = gid.x / HEAD_DIM;
  let d = gid.x % HEAD_DIM;
  let slot = slotMap[t * KV_HEADS + h];
  if (slot >= arrayLength(&slotPos)) {
    return;
  }
  let src = (t * KV_HEADS + h) * HEAD_DIM + d;
  if (KV_F16) {
    if ((d & 1u) == 0u) {
      let w = (slot * HEAD_DIM + d) / 2u;
      kPool[w] = pack2x16float(vec2f(k[src], k[src + 1u]));
      vPool[w] = pack2x16float(vec2f(v[src], v[src + 1u]));
    }
  } else {
    kPool[slot * HEAD_DIM + d] = bitcast<u32>(k[src]);
    vPool[slot * HEAD_DIM + d] = bitcast<u32>(v[src]);
  }
  if (d == 0u) {
    slotPos[slot] = i32(step.pos_start + t);
  }
}
