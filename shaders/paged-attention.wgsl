// Attention over the paged KV cache, for decode (rows = 1) and a prefill tile (rows > 1).
// Query row t sits at absolute position p = row_position(t) (step.wgsl); query head h reads KV head
// g = h / (HEADS / KV_HEADS) (GQA). Over the logical slots s < headSlots[g] of that head, slot s
// lives at physical slot phys = physical(g, s) (paged-slot.wgsl), and is valid iff
// 0 <= slotPos[phys] <= p (holes are -1; the tile's own later tokens are masked: causal).
//   score[s] = SCALE * dot(q[t, h], kPool[phys])        (keys already carry their RoPE)
//   probs[t, h, s] = softmax over valid s (max-subtracted), exactly 0 for invalid s
//   out[t, h] = sum_s probs[t, h, s] * vPool[phys]
// A row with no valid slot gets probs 0 and out 0. probs[t, h, s] for s >= headSlots[g] is not
// written.
// A probe row (t >= step.real_rows; src/policies/probe.ts) also attends, causally, to its own
// block's rows j = probe_block_start(t) .. t, whose K/V rope-append wrote to scratch slots
// slotMap[j, g] that no block table lists (they are never kept): their terms join the softmax's
// max and sum and the output, but have no probs entry. The probs row doubles as scratch: pass 1 writes scores, pass 2 exponentials, pass 3
// normalises; then the output is accumulated from it.
// The host joins step.wgsl (Step) and paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, physical).
// Dispatch: (HEADS, rows, 1) workgroups of WG threads, one workgroup per (query row, head).

override HEADS: u32;
override KV_HEADS: u32;
override HEAD_DIM: u32;
override SCALE: f32; // 1 / sqrt(HEAD_DIM) for the usual models
override KV_F16: bool = false; // pools of f16 pairs (16-bit models)
override WG: u32 = 64; // a power of two

const NO_SCORE = -3.0e38; // below any real score: "no valid slot yet"

@group(0) @binding(0) var<uniform> step: Step;                          // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> q: array<f32>;                 // (rows, HEADS, HEAD_DIM)
@group(0) @binding(2) var<storage, read> kPool: array<u32>;             // (numSlots, HEAD_DIM) f32 bits, or f16 pairs (KV_F16)
@group(0) @binding(3) var<storage, read> vPool: array<u32>;             // as kPool
@group(0) @binding(4) var<storage, read> slotPos: array<i32>;           // (numSlots) absolute position, -1 if empty
@group(0) @binding(5) var<storage, read> blockTable: array<u32>;        // (KV_HEADS, MAX_PAGES) physical page ids
@group(0) @binding(6) var<storage, read> headSlots: array<u32>;         // (KV_HEADS) logical slots in use
@group(0) @binding(7) var<storage, read_write> out: array<f32>;         // (rows, HEADS, HEAD_DIM)
@group(0) @binding(8) var<storage, read_write> probs: array<f32>;       // (rows, HEADS, MAX_PAGES * PAGE_SIZE)
@group(0) @binding(9) var<storage, read> slotMap: array<u32>;           // (rows, KV_HEADS) physical slot of each row's K/V: the probe rows' keys

override MAX_PROBE: u32 = 64; // the most rows a probe block has (the host checks)

// K or V element i of the pool (index in elements, as if f32).
fn k_at(i: u32) -> f32 {
  if (KV_F16) {
    return unpack2x16float(kPool[i >> 1u])[i & 1u];
  }
  return bitcast<f32>(kPool[i]);
}

fn v_at(i: u32) -> f32 {
  if (KV_F16) {
    return unpack2x16float(vPool[i >> 1u])[i & 1u];
  }
  return bitcast<f32>(vPool[i]);
}

var<workgroup> qs: array<f32, HEAD_DIM>;
var<workgroup> red: array<f32, WG>;
var<workgroup> probeTerms: array<f32, MAX_PROBE>; // a probe row's own block: scores, then probabilities

fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      red[lid] = max(red[lid], red[lid + stride]);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // everyone has read red[0] before red is reused
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      red[lid] += red[lid + stride];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  let t = wg.y;
  let g = h / (HEADS / KV_HEADS);
  let p = i32(row_position(t));
  let n = min(headSlots[g], MAX_PAGES * PAGE_SIZE);
  // A probe row's own block: rows first .. t (none for a real row).
  let first = select(t + 1u, probe_block_start(t), t >= step.real_rows);
  let probeKeys = t + 1u - first;
  let qBase = (t * HEADS + h) * HEAD_DIM;
  let row = (t * HEADS + h) * (MAX_PAGES * PAGE_SIZE);

  for (var i = lid; i < HEAD_DIM; i += WG) {
    qs[i] = q[qBase + i];
  }
  workgroupBarrier();

  // Pass 1: scores of the valid slots this thread owns (s = lid, lid + WG, ...), and their max.
  var localMax = NO_SCORE;
  for (var s = lid; s < n; s += WG) {
    let phys = physical(g, s);
    let pos = slotPos[phys];
    if (pos >= 0 && pos <= p) {
      let kBase = phys * HEAD_DIM;
      var dot = 0.0;
      for (var i = 0u; i < HEAD_DIM; i++) {
        dot += qs[i] * k_at(kBase + i);
      }
      let score = SCALE * dot;
      probs[row + s] = score;
      localMax = max(localMax, score);
    }
  }
  for (var j = lid; j < probeKeys; j += WG) {
    let kBase = slotMap[(first + j) * KV_HEADS + g] * HEAD_DIM;
    var dot = 0.0;
    for (var i = 0u; i < HEAD_DIM; i++) {
      dot += qs[i] * k_at(kBase + i);
    }
    probeTerms[j] = SCALE * dot;
    localMax = max(localMax, probeTerms[j]);
  }
  let m = reduce_max(lid, localMax);

  // Pass 2: exponentials (each thread rereads only its own slots) and their sum.
  var localSum = 0.0;
  for (var s = lid; s < n; s += WG) {
    let pos = slotPos[physical(g, s)];
    var e = 0.0;
    if (pos >= 0 && pos <= p) {
      e = exp(probs[row + s] - m);
    }
    probs[row + s] = e;
    localSum += e;
  }
  for (var j = lid; j < probeKeys; j += WG) {
    probeTerms[j] = exp(probeTerms[j] - m);
    localSum += probeTerms[j];
  }
  let total = reduce_sum(lid, localSum);
  let inv = select(0.0, 1.0 / total, total > 0.0);

  // Pass 3: normalise, then make the whole row visible to the workgroup.
  for (var s = lid; s < n; s += WG) {
    probs[row + s] *= inv;
  }
  for (var j = lid; j < probeKeys; j += WG) {
    probeTerms[j] *= inv;
  }
  storageBarrier();
  workgroupBarrier();

  // Output. With HEAD_DIM < WG, the WG / HEAD_DIM groups of HEAD_DIM threads split the slots and
  // their partial sums are added through `red`; otherwise each thread owns whole dims.
  let groups = max(1u, WG / HEAD_DIM);
  if (groups == 1u) {
    for (var d = lid; d < HEAD_DIM; d += WG) {
      var acc = 0.0;
      for (var s = 0u; s < n; s++) {
        let pr = probs[row + s];
        if (pr != 0.0) { // invalid slots may hold anything, NaN included
          acc += pr * v_at(physical(g, s) * HEAD_DIM + d);
        }
      }
      for (var j = 0u; j < probeKeys; j++) {
        acc += probeTerms[j] * v_at(slotMap[(first + j) * KV_HEADS + g] * HEAD_DIM + d);
      }
      out[qBase + d] = acc;
    }
  } else {
    let d = lid % HEAD_DIM;
    let grp = lid / HEAD_DIM;
    var acc = 0.0;
    if (grp < groups) {
      for (var s = grp; s < n; s += groups) {
        let pr = probs[row + s];
        if (pr != 0.0) {
          acc += pr * v_at(physical(g, s) * HEAD_DIM + d);
        }
      }
      if (grp == 0u) {
        for (var j = 0u; j < probeKeys; j++) {
          acc += probeTerms[j] * v_at(slotMap[(first + j) * KV_HEADS + g] * HEAD_DIM + d);
        }
      }
    }
    red[lid] = acc;
    workgroupBarrier();
    if (lid < HEAD_DIM) {
      var sum = 0.0;
      for (var k = 0u; k < groups; k++) {
        sum += red[k * HEAD_DIM + lid];
      }
      out[qBase + d] = sum;
    }
  }
}
