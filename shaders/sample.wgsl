// The next token from one row of logits (sample.ref.ts follows the same rule, in f64):
// - temperature <= 0: greedy, the lowest index among the maxima (numpy argmax).
// - otherwise, with m = max logit and w_i = exp((l_i - m) / temperature) (softmax numerators),
//   Z = sum_i w_i, the kept set is K = {i : l_i >= lambda}, where lambda is the largest logit value
//   with sum_{l_j >= lambda} w_j >= top_p * Z: the smallest set of most probable tokens holding
//   top_p of the mass, extended to every token tied with the last one (top_p >= 1 keeps all).
//   With W = sum_{i in K} w_i, the token is the first i in K, in index order, whose cumulative
//   kept mass sum_{j in K, j <= i} w_j exceeds u * W (inverse CDF; u in [0, 1) from the host).
// lambda is found by bisection over the logits' order keys (f32 bits mapped to a monotonic u32),
// one pass over the vocabulary per step (about 31), so the search is exact: it ends on a logit.
// The final walk gives each thread one contiguous chunk; thread 0 scans the chunk masses and the
// one chunk holding u * W walks its tokens.
// The host joins workgroup-argmax.wgsl (row_argmax, the greedy path).
// Dispatch: (1, 1, 1), one workgroup of WG threads looping over the vocabulary.

struct SampleParams {
  temperature: f32,
  top_p: f32,
  u: f32,
  _pad: f32,
}

override VOCAB: u32;
override WG: u32 = 256; // a power of two

const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> params: SampleParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;        // (VOCAB)
@group(0) @binding(2) var<storage, read_write> token: array<u32>;   // (1) the chosen token id

var<workgroup> redF: array<f32, WG>;
var<workgroup> redU: array<u32, WG>;
var<workgroup> redV: array<u32, WG>;
var<workgroup> prefix: array<f32, WG + 1u>; // kept mass before each thread's chunk, then W
var<workgroup> bounds: vec2u; // bisection interval of order keys: the answer is in [x, y]

// Monotonic map of f32 onto u32 (-0 joins +0), so "l >= lambda" is "orderKey(l) >= orderKey(lambda)".
fn orderKey(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) {
    b = 0u;
  }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn fromOrderKey(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn weight(l: f32, m: f32) -> f32 {
  return exp((l - m) / params.temperature);
}

fn reduceSum(lid: u32, v: f32) -> f32 {
  redF[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      redF[lid] += redF[lid + stride];
    }
    workgroupBarrier();
  }
  let r = redF[0];
  workgroupBarrier(); // everyone has read redF[0] before it is reused
  return r;
}

// sum of w_i over the tokens whose order key is >= k
fn massFrom(lid: u32, m: f32, k: u32) -> f32 {
  var acc = 0.0;
  for (var i = lid; i < VOCAB; i += WG) {
    let l = logits[i];
    if (orderKey(l) >= k) {
      acc += weight(l, m);
    }
  }
  return reduceSum(lid, acc);
}

fn greedy(lid: u32) {
  let best = row_argmax(lid, 0u); // workgroup-argmax.wgsl
  if (lid == 0u) {
    token[0] = best;
  }
}

fn nucleus(lid: u32) {
  // The range of order keys; its top is the max logit m.
  var kMin = NONE;
  var kMax = 0u;
  for (var i = lid; i < VOCAB; i += WG) {
    let k = orderKey(logits[i]);
    kMin = min(kMin, k);
    kMax = max(kMax, k);
  }
  redU[lid] = kMin;
  redV[lid] = kMax;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      redU[lid] = min(redU[lid], redU[lid + stride]);
      redV[lid] = max(redV[lid], redV[lid + stride]);
    }
    workgroupBarrier();
  }
  let keyLo = redU[0];
  let keyHi = redV[0];
  let m = fromOrderKey(keyHi);
  if (lid == 0u) {
    bounds = vec2u(keyLo, select(keyLo, keyHi, params.top_p < 1.0));
  }

  // Largest key k with massFrom(k) >= top_p * Z; massFrom(keyLo) = Z satisfies it.
  let goal = params.top_p * massFrom(lid, m, keyLo);
  loop {
    let b = workgroupUniformLoad(&bounds);
    if (b.x >= b.y) {
      break;
    }
    let span = b.y - b.x;
    let mid = b.x + span / 2u + (span & 1u);
    let mass = massFrom(lid, m, mid);
    if (lid == 0u) {
      if (mass >= goal) {
        bounds.x = mid;
      } else {
        bounds.y = mid - 1u;
      }
    }
  }
  let cut = workgroupUniformLoad(&bounds).x;

  // Kept mass per contiguous chunk, an exclusive scan by thread 0, then the chunk whose interval
  // [prefix[j], prefix[j + 1]) holds x walks its tokens. The intervals tile [0, W) exactly.
  let chunk = (VOCAB + WG - 1u) / WG;
  let start = min(lid * chunk, VOCAB);
  let end = min(start + chunk, VOCAB);
  var c = 0.0;
  for (var i = start; i < end; i++) {
    let l = logits[i];
    if (orderKey(l) >= cut) {
      c += weight(l, m);
    }
  }
  redF[lid] = c;
  workgroupBarrier();
  if (lid == 0u) {
    var run = 0.0;
    for (var j = 0u; j < WG; j++) {
      prefix[j] = run;
      run += redF[j];
    }
    prefix[WG] = run;
  }
  workgroupBarrier();
  let total = prefix[WG];
  var x = params.u * total;
  if (x >= total) {
    x = bitcast<f32>(bitcast<u32>(total) - 1u); // the largest f32 below W
  }
  if (prefix[lid] <= x && x < prefix[lid + 1u]) {
    var cum = prefix[lid];
    var pick = NONE;
    for (var i = start; i < end; i++) {
      let l = logits[i];
      if (orderKey(l) >= cut) {
        let w = weight(l, m);
        if (w > 0.0) {
          pick = i; // at the end, the last kept token: the fallback if f32 rounding never crosses x
        }
        cum += w;
        if (cum > x) {
          break;
        }
      }
    }
    token[0] = pick;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (params.temperature <= 0.0) {
    greedy(lid);
  } else {
    nucleus(lid);
  }
}
