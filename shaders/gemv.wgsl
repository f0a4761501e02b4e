// Matrix-vector product over this step's rows with a Hugging Face Linear weight (N, K):
//   out[t, n] = sum_k x[t, k] * weight[n, k] (+ bias[n])      (+= instead of = when ACCUMULATE)
// When decoding (one row) this is a GEMV, memory bound on the weight. Each output n is computed by
// LANES threads that stride along K together, so a row of the weight is read coalesced, and a
// workgroup computes OUTS = WG / LANES outputs. A workgroup computes up to TILE rows of x at once,
// reusing every weight element it loads for each of them: a prefill tile of T tokens reads the
// weight ceil(T / TILE) times, not T times.
// LANES = 1 (one thread per output, no workgroup memory, no barrier) is for CPU adapters such as
// SwiftShader, where cooperating lanes and barriers cost far more than they save.
// ONLY_LAST_ROW (lm_head): reads only row step.rows - 1 of x and writes row 0 of out.
// Dispatch: (gx, gy, tiles) workgroups of WG threads, where gx * gy >= ceil(N / OUTS) with gx at
// most 65535 (a 152k vocabulary fits in x alone at OUTS >= 4) and tiles = ceil(rows / TILE) (1
// when ONLY_LAST_ROW). Workgroup (x, y, z) computes outputs from (y * gx + x) * OUTS and rows
// from z * TILE.

struct Step {
  rows: u32,
  pos_start: u32,
  _pad0: u32,
  _pad1: u32,
}

override N: u32;
override K: u32;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override ONLY_LAST_ROW: bool = false;
override WG: u32 = 128; // a multiple of LANES
override LANES: u32 = 32; // threads per output: 1, or a power of two >= TILE
override OUTS: u32 = WG / LANES; // derived, never set by the host
const TILE = 8u; // rows of x per workgroup

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (rows, K)
@group(0) @binding(2) var<storage, read> weight: array<f32>;     // (N, K)
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (N); a placeholder when !HAS_BIAS
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (rows, N); (1, N) when ONLY_LAST_ROW

var<workgroup> partial: array<f32, TILE * WG>; // (TILE, WG): 4 KiB at WG 128; unused when LANES = 1

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

  // This lane's share of K: acc[r] for row first + r.
  var acc: array<f32, TILE>;
  if (live) {
    let w_row = n * K;
    if (count == 1u) {
      acc[0] = dot_row(w_row, first * K, lane);
    } else {
      for (var k = lane; k < K; k += LANES) {
        let w = weight[w_row + k];
        for (var r = 0u; r < TILE; r++) {
          // Rows past the tile repeat its last row (in bounds, discarded) so the loop stays unrolled.
          acc[r] += w * x[(first + min(r, count - 1u)) * K + k];
        }
      }
    }
  }

  if (LANES == 1u) {
    if (live) {
      for (var r = 0u; r < count; r++) {
        store(n, first + r, acc[r]);
      }
    }
    return;
  }
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
  // Lane r of each output stores row r of the tile.
  if (live && lane < count) {
    store(n, first + lane, partial[lane * WG + lid - lane]);
  }
}

// One row of x against one row of the weight, this lane's share of K. Four independent loads per
// iteration keep more of the weight in flight, which is what a memory-bound GEMV needs.
fn dot_row(w_row: u32, x_row: u32, lane: u32) -> f32 {
  var acc = vec4f(0.0);
  var k = lane;
  for (; k + 3u * LANES < K; k += 4u * LANES) {
    let w = vec4f(weight[w_row + k], weight[w_row + k + LANES], weight[w_row + k + 2u * LANES], weight[w_row + k + 3u * LANES]);
    let v = vec4f(x[x_row + k], x[x_row + k + LANES], x[x_row + k + 2u * LANES], x[x_row + k + 3u * LANES]);
    acc += w * v;
  }
  for (; k < K; k += LANES) {
    acc.x += weight[w_row + k] * x[x_row + k];
  }
  return (acc.x + acc.y) + (acc.z + acc.w);
}

fn store(n: u32, row: u32, sum: f32) {
  var v = sum;
  if (HAS_BIAS) {
    v += bias[n];
  }
  let o = select(row, 0u, ONLY_LAST_ROW) * N + n;
  if (ACCUMULATE) {
    out[o] += v;
  } else {
    out[o] = v;
  }
}
