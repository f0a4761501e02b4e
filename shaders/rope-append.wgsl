// What happens to the fused q/k/v projection's output before attention, in one pass: Qwen3's
// per-head q/k RMSNorm, RoPE (rotate-half, NeoX / Hugging Face), and the KV append into the paged
// pool. Before this was five dispatches (q-norm, k-norm, rope q, rope k, kv-append); a decode
// step on a GPU is bound by its dispatch count, not by these few KiB.
// For token t (p = row_position(t), step.wgsl: a probe's lookahead rows sit where its answer rows do), with HALF = HEAD_DIM / 2 and n(x) the head's normalised
// value (x itself when !QK_NORM):
//   n(x)[i]   = weight[i] * (x[i] / sqrt(mean_j x[j]^2 + EPS))           (rmsnorm.wgsl's formula)
//   rot(x)[i] = n(x)[i] * cos[p, i] - n(x)[i + HALF] * sin[p, i]          i < HALF
//   rot(x)[i] = n(x)[i] * cos[p, i - HALF] + n(x)[i - HALF] * sin[p, i - HALF]   i >= HALF
//   q head h:   q[t, h, :] = rot(qkv[t, q_h])                           (normalised by qNorm)
//   KV head g:  kPool[slot, :] = rot(qkv[t, k_g]) (by kNorm); vPool[slot, :] = qkv[t, v_g];
//               slotPos[slot] = p, where slot = slotMap[t, g]; a slot past the pool is skipped
// qkv rows are the projection's (HEADS + 2 * KV_HEADS, HEAD_DIM): q heads, then k heads, then v.
// KV_F16 (16-bit models): the pools hold two halves per word (pack2x16float), one thread per word.
// The host joins step.wgsl (Step) and workgroup-tree-sum.wgsl (tree_sum) to this file.
// Dispatch: (HEADS + KV_HEADS, rows, 1) workgroups of WG threads: workgroup (j, t) is q head j of
// token t when j < HEADS, else KV head j - HEADS; its threads reduce the head's sum of squares
// and then each writes elements d = lid, lid + WG, ...

override HEADS: u32;
override KV_HEADS: u32;
override HEAD_DIM: u32; // even
override QK_NORM: bool = false;
override EPS: f32 = 1e-6;
override KV_F16: bool = false;
override WG: u32 = 64; // a power of two
override HALF: u32 = HEAD_DIM / 2u; // derived, never set by the host
override WIDTH: u32 = (HEADS + 2u * KV_HEADS) * HEAD_DIM; // derived: one qkv row

@group(0) @binding(0) var<uniform> step: Step;                       // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> qkv: array<f32>;            // (rows, WIDTH) the projection's output
@group(0) @binding(2) var<storage, read> qNorm: array<f32>;          // (HEAD_DIM); a placeholder when !QK_NORM
@group(0) @binding(3) var<storage, read> kNorm: array<f32>;          // (HEAD_DIM); a placeholder when !QK_NORM
@group(0) @binding(4) var<storage, read> cos: array<f32>;            // (maxPositions, HALF)
@group(0) @binding(5) var<storage, read> sin: array<f32>;            // (maxPositions, HALF)
@group(0) @binding(6) var<storage, read_write> q: array<f32>;        // (rows, HEADS, HEAD_DIM) rotated queries
@group(0) @binding(7) var<storage, read> slotMap: array<u32>;        // (rows, KV_HEADS) physical slot
@group(0) @binding(8) var<storage, read_write> kPool: array<u32>;    // (numSlots, HEAD_DIM) f32, or (numSlots, HEAD_DIM / 2) f16 pairs
@group(0) @binding(9) var<storage, read_write> vPool: array<u32>;    // as kPool
@group(0) @binding(10) var<storage, read_write> slotPos: array<i32>; // (numSlots) absolute position, -1 = empty

// The element d of the head starting at qkv[base], normalised (by q's or k's weight).
fn normed(base: u32, d: u32, inv_rms: f32, is_q: bool) -> f32 {
  let x = qkv[base + d];
  if (!QK_NORM) {
    return x;
  }
  let w = select(kNorm[d], qNorm[d], is_q);
  return w * (x * inv_rms);
}

// Element d of the head after RoPE at the position whose table row starts at `table`.
fn rotated(base: u32, d: u32, inv_rms: f32, is_q: bool, table: u32) -> f32 {
  let i = d % HALF;
  let c = cos[table + i];
  let s = sin[table + i];
  let a = normed(base, i, inv_rms, is_q);
  let b = normed(base, i + HALF, inv_rms, is_q);
  if (d < HALF) {
    return a * c - b * s;
  }
  return b * c + a * s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wg.x;
  let t = wg.y;
  if (t >= step.rows) {
    return; // the whole workgroup: a grid sized for more rows than this step has
  }
  let is_q = j < HEADS;
  let base = t * WIDTH + j * HEAD_DIM; // k head g = j - HEADS sits right after the q heads
  var inv_rms = 1.0;
  if (QK_NORM) {
    var sum_sq = 0.0;
    for (var d = lid; d < HEAD_DIM; d += WG) {
      let v = qkv[base + d];
      sum_sq += v * v;
    }
    inv_rms = 1.0 / sqrt(tree_sum(lid, sum_sq) / f32(HEAD_DIM) + EPS);
  }
  let table = row_position(t) * HALF;
  if (is_q) {
    for (var d = lid; d < HEAD_DIM; d += WG) {
      q[(t * HEADS + j) * HEAD_DIM + d] = rotated(base, d, inv_rms, true, table);
    }
    return;
  }
  let g = j - HEADS;
  let slot = slotMap[t * KV_HEADS + g];
  if (slot >= arrayLength(&slotPos)) {
    return;
  }
  let v_base = base + KV_HEADS * HEAD_DIM;
  if (KV_F16) {
    for (var w = lid; w < HALF; w += WG) {
      let d = 2u * w;
      kPool[slot * HALF + w] = pack2x16float(vec2f(rotated(base, d, inv_rms, false, table), rotated(base, d + 1u, inv_rms, false, table)));
      vPool[slot * HALF + w] = pack2x16float(vec2f(qkv[v_base + d], qkv[v_base + d + 1u]));
    }
  } else {
    for (var d = lid; d < HEAD_DIM; d += WG) {
      kPool[slot * HEAD_DIM + d] = bitcast<u32>(rotated(base, d, inv_rms, false, table));
      vPool[slot * HEAD_DIM + d] = bitcast<u32>(qkv[v_base + d]);
    }
  }
  if (lid == 0u) {
    slotPos[slot] = i32(row_position(t));
  }
}
