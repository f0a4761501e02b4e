// Matrix-vector product over this step's rows with a Hugging Face Linear weight (N, K), in any
// of the model formats (src/model/linear.ts), decoded here in the kernel:
//   out[t, n] = sum_k x[t, k] * w[n, k] (+ bias[n])      (+= instead of = when ACCUMULATE)
// FORMAT 0 f32: weight holds f32 bits, (N, K).
// FORMAT 1 f16 / 2 bf16: weight holds two 16-bit values per word, element e at word e / 2, low
//   half first; f16 decodes with unpack2x16float, so no shader-f16 is needed; bf16 is a shift.
// FORMAT 3 q4 with f16 scales / 4 q4 with f32 scales (MLC q4f16_1 / q4f32_1): weight is (N, WORDS)
//   words of eight 4-bit codes, least significant first; scales is (N, GROUPS), one per 32
//   inputs; w = (code - 7) * scale. A row's codes past K are padding and never read.
// When decoding (one row) this is a GEMV, memory bound on the weight. Each output n is computed by
// LANES threads that stride along K in chunks of 8 inputs (one q4 word, four 16-bit words, eight
// f32 words), and a workgroup computes OUTS = WG / LANES outputs. A workgroup computes up to TILE
// rows of x at once, reusing every weight chunk it decodes for each of them: a prefill tile of T
// tokens reads the weight ceil(T / TILE) times, not T times.
// LANES = 1 (one thread per output, no workgroup memory, no barrier) is for CPU adapters such as
// SwiftShader, where cooperating lanes and barriers cost far more than they save.
// ONLY_LAST_ROW (lm_head): reads only row step.rows - 1 of x and writes row 0 of out.
// GATED (the MLP's gate_up, SwiGLU fused in): the weight is (2N, K) with gate and up rows
//   interleaved (row 2n gate n, row 2n + 1 up n: interleaveHalves in src/model/linear.ts), and
//   out[t, n] = silu(x[t] . w[2n]) * (x[t] . w[2n + 1]); bias and ACCUMULATE are not used with it.
// A weight larger than one binding may hold is computed in row ranges, one dispatch each: weight,
// scales and bias are then bound from the range's first row, and ROW0 / N_OUT place its N
// outputs at columns ROW0.. of out rows N_OUT wide.
// The host joins step.wgsl (Step) to this file.
// Dispatch: (gx, gy, tiles) workgroups of WG threads, where gx * gy >= ceil(N / OUTS) with gx at
// most 65535 (a 152k vocabulary fits in x alone at OUTS >= 4) and tiles = ceil(rows / TILE) (1
// when ONLY_LAST_ROW). Workgroup (x, y, z) computes outputs from (y * gx + x) * OUTS and rows
// from z * TILE.

override N: u32;
override K: u32;
override FORMAT: u32 = 0u; // 0 f32, 1 f16, 2 bf16, 3 q4 + f16 scales, 4 q4 + f32 scales
override WORDS: u32 = 1u; // q4: words per weight row (ceil(K / 32) * 4)
override GROUPS: u32 = 1u; // q4: scales per weight row (ceil(K / 32))
override ROW0: u32 = 0u; // the first output column this dispatch writes
override N_OUT: u32 = N; // out's row width (N unless the weight is split into row ranges)
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override ONLY_LAST_ROW: bool = false;
override GATED: bool = false;
override WG: u32 = 128; // a multiple of LANES
override LANES: u32 = 32; // threads per output: 1, or a power of two >= TILE
override OUTS: u32 = WG / LANES; // derived, never set by the host
const TILE = 8u; // rows of x per workgroup
override CHUNKS: u32 = K / 8u; // derived: whole chunks of 8 inputs; inputs past 8 * CHUNKS go one by one

@group(0) @binding(0) var<uniform> step: Step;                   // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (rows, K)
@group(0) @binding(2) var<storage, read> weight: array<u32>;     // per FORMAT, above
@group(0) @binding(3) var<storage, read> scales: array<u32>;     // q4: (N, GROUPS) f16 pairs or f32 bits; a placeholder otherwise
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // (N); a placeholder when !HAS_BIAS
@group(0) @binding(5) var<storage, read_write> out: array<f32>;  // (rows, N_OUT); (1, N_OUT) when ONLY_LAST_ROW

var<workgroup> partial: array<f32, TILE * WG>; // (TILE, WG): 4 KiB at WG 128; unused when LANES = 1

// Eight decoded weights w[n, 8c .. 8c + 8).
struct Chunk {
  lo: vec4f,
  hi: vec4f,
}

fn half_at(e: u32) -> f32 {
  let word = weight[e >> 1u];
  if (FORMAT == 2u) {
    return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
  }
  return unpack2x16float(word)[e & 1u];
}

fn scale_at(i: u32) -> f32 {
  if (FORMAT == 4u) {
    return bitcast<f32>(scales[i]);
  }
  return unpack2x16float(scales[i >> 1u])[i & 1u];
}

fn codes(word: u32, scale: f32) -> Chunk {
  let a = vec4u(word, word >> 4u, word >> 8u, word >> 12u) & vec4u(0xfu);
  let b = vec4u(word >> 16u, word >> 20u, word >> 24u, word >> 28u) & vec4u(0xfu);
  return Chunk((vec4f(a) - 7.0) * scale, (vec4f(b) - 7.0) * scale);
}

fn pair(word: u32) -> vec2f {
  if (FORMAT == 2u) {
    return vec2f(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
  }
  return unpack2x16float(word);
}

fn chunk(n: u32, c: u32) -> Chunk {
  if (FORMAT >= 3u) {
    return codes(weight[n * WORDS + c], scale_at(n * GROUPS + c / 4u));
  }
  let e = n * K + c * 8u; // first element
  if (FORMAT == 0u) {
    return Chunk(
      bitcast<vec4f>(vec4u(weight[e], weight[e + 1u], weight[e + 2u], weight[e + 3u])),
      bitcast<vec4f>(vec4u(weight[e + 4u], weight[e + 5u], weight[e + 6u], weight[e + 7u])),
    );
  }
  if ((K & 1u) == 1u) {
    // Odd K: a row may start inside a word.
    return Chunk(
      vec4f(half_at(e), half_at(e + 1u), half_at(e + 2u), half_at(e + 3u)),
      vec4f(half_at(e + 4u), half_at(e + 5u), half_at(e + 6u), half_at(e + 7u)),
    );
  }
  let wi = e >> 1u;
  return Chunk(
    vec4f(pair(weight[wi]), pair(weight[wi + 1u])),
    vec4f(pair(weight[wi + 2u]), pair(weight[wi + 3u])),
  );
}

// One weight w[n, k], for the inputs past the last whole chunk.
fn single(n: u32, k: u32) -> f32 {
  if (FORMAT == 0u) {
    return bitcast<f32>(weight[n * K + k]);
  }
  if (FORMAT >= 3u) {
    let code = (weight[n * WORDS + k / 8u] >> ((k % 8u) * 4u)) & 0xfu;
    return (f32(code) - 7.0) * scale_at(n * GROUPS + k / 32u);
  }
  return half_at(n * K + k);
}

fn x4(i: u32) -> vec4f {
  return vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
}

// This lane's share of K for weight row `row` and the tile's rows of x: acc[r] for x row first + r.
fn partial_dots(row: u32, first: u32, count: u32, lane: u32) -> array<f32, TILE> {
  var acc: array<f32, TILE>;
  if (count == 1u) {
    let xr = first * K;
    var a = vec4f(0.0);
    for (var c = lane; c < CHUNKS; c += LANES) {
      let w = chunk(row, c);
      a += w.lo * x4(xr + c * 8u) + w.hi * x4(xr + c * 8u + 4u);
    }
    acc[0] = (a.x + a.y) + (a.z + a.w);
  } else {
    for (var c = lane; c < CHUNKS; c += LANES) {
      let w = chunk(row, c);
      for (var r = 0u; r < TILE; r++) {
        // Rows past the tile repeat its last row (in bounds, discarded) so the loop stays unrolled.
        let xi = (first + min(r, count - 1u)) * K + c * 8u;
        acc[r] += dot(w.lo, x4(xi)) + dot(w.hi, x4(xi + 4u));
      }
    }
  }
  for (var k = CHUNKS * 8u + lane; k < K; k += LANES) {
    let w = single(row, k);
    for (var r = 0u; r < count; r++) {
      acc[r] += w * x[(first + r) * K + k];
    }
  }
  return acc;
}

// Sums acc over the LANES lanes of each output; lane r of an output gets row r's sum.
fn lane_sum(acc: array<f32, TILE>, lid: u32, lane: u32, count: u32) -> f32 {
  for (var r = 0u; r < TILE; r++) {
    partial[r * WG + lid] = acc[r];
  }
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      for (var r = 0u; r < count; r++) {
        partial[r * WG + lid] += partial[r * WG + lid + stride];
      }
    }
    workgroupBarrier();
  }
  return partial[min(lane, TILE - 1u) * WG + lid - lane];
}

// g * sigmoid(g) with exp of a non-positive argument only, so no exp overflows to inf for any g.
fn silu(g: f32) -> f32 {
  let e = exp(-abs(g)); // in (0, 1]
  let sigmoid = select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
  return g * sigmoid;
}

// The output from its row's dot product (and, when GATED, the up row's).
fn finish(gate: f32, up: f32) -> f32 {
  if (GATED) {
    return silu(gate) * up;
  }
  return gate;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  var first: u32; // first row of x in this tile
  var count: u32; // rows in this tile, 1..TILE
  if (ONLY_LAST_ROW) {
    first = step.rows - 1u;
    count = 1u;
  } else {
    first = wg.z * TILE;
    if (first >= step.rows) {
      return; // the whole workgroup: the grid was sized for more rows than this step has
    }
    count = min(TILE, step.rows - first);
  }
  let lane = lid % LANES;
  let n = (wg.y * groups.x + wg.x) * OUTS + lid / LANES;
  let live = n < N; // the last workgroup may have spare outputs; they still join the barriers

  // GATED: output n is gate row 2n and up row 2n + 1 of the interleaved weight.
  var acc: array<f32, TILE>;
  var up: array<f32, TILE>;
  if (live) {
    acc = partial_dots(select(n, 2u * n, GATED), first, count, lane);
    if (GATED) {
      up = partial_dots(2u * n + 1u, first, count, lane);
    }
  }

  if (LANES == 1u) {
    if (live) {
      for (var r = 0u; r < count; r++) {
        store(n, first + r, finish(acc[r], up[r]));
      }
    }
    return;
  }
  let gate_sum = lane_sum(acc, lid, lane, count);
  var up_sum = 0.0;
  if (GATED) {
    workgroupBarrier(); // every lane has read its gate sum before the up sums overwrite partial
    up_sum = lane_sum(up, lid, lane, count);
  }
  // Lane r of each output stores row r of the tile.
  if (live && lane < count) {
    store(n, first + lane, finish(gate_sum, up_sum));
  }
}

fn store(n: u32, row: u32, sum: f32) {
  var v = sum;
  if (HAS_BIAS) {
    v += bias[n];
  }
  let o = select(row, 0u, ONLY_LAST_ROW) * N_OUT + ROW0 + n;
  if (ACCUMULATE) {
    out[o] += v;
  } else {
    out[o] = v;
  }
}
