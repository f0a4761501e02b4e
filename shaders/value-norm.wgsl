// LaProx's output-aware factor of each entry written this step (valueNorm in
// src/model/reference.ts): token t's value for KV head g is read by the G = HEADS / KV_HEADS query
// heads h = g * G + q, whose slice of the output projection maps it to W_O^h v; the factor is
//   stamp[slotMap[t, g]] = (1/G) sum_q || W_O[:, h * HEAD_DIM .. (h + 1) * HEAD_DIM] v[t, g] ||_2
// with W_O in the Hugging Face Linear layout (HIDDEN, HEADS * HEAD_DIM). It is a constant of the
// entry, computed once when the entry is written (after score-update's admit cleared the stamp).
// A slot past the end of stamp is skipped, as in rope-append.
// The host joins step.wgsl (Step) to this file.
// Dispatch: (KV_HEADS, rows, 1) workgroups of WG threads; thread lid computes the outputs
// r = lid, lid + WG, ... < HIDDEN of each query head, and one reduction adds their squares.

override HIDDEN: u32;
override HEADS: u32;
override KV_HEADS: u32;
override HEAD_DIM: u32;
override WG: u32 = 64;
override V_ROW: u32 = KV_HEADS * HEAD_DIM; // floats per row of v (the fused qkv row in the forward)
override V_COL: u32 = 0u; // column of KV head 0's values in a row (after the q and k heads in qkv)

@group(0) @binding(0) var<uniform> step: Step;                        // this step's rows and pos_start
@group(0) @binding(1) var<storage, read> v: array<f32>;               // (rows, V_ROW): KV head g's values (no RoPE) at V_COL + g * HEAD_DIM
@group(0) @binding(2) var<storage, read> o: array<f32>;               // (HIDDEN, HEADS * HEAD_DIM) output projection
@group(0) @binding(3) var<storage, read> slotMap: array<u32>;         // (rows, KV_HEADS) physical slot
@group(0) @binding(4) var<storage, read_write> stamp: array<f32>;     // (numSlots) laprox: the value norm

var<workgroup> vs: array<f32, HEAD_DIM>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wg.x;
  let t = wg.y;
  if (t >= step.real_rows) { // probe rows (step.wgsl) are never kept
    return; // the whole workgroup: a grid sized for more rows than this step has
  }
  for (var d = lid; d < HEAD_DIM; d += WG) {
    vs[d] = v[t * V_ROW + V_COL + g * HEAD_DIM + d];
  }
  workgroupBarrier();
  let group = HEADS / KV_HEADS;
  var total = 0.0;
  for (var q = 0u; q < group; q++) {
    let col = (g * group + q) * HEAD_DIM;
    var sq = 0.0;
    for (var r = lid; r < HIDDEN; r += WG) {
      var dot = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) {
        dot += o[r * HEADS * HEAD_DIM + col + d] * vs[d];
      }
      sq += dot * dot;
    }
    red[lid] = sq;
    workgroupBarrier();
    var sum = 0.0;
    for (var i = 0u; i < WG; i++) {
      sum += red[i];
    }
    workgroupBarrier();
    total += sqrt(sum);
  }
  let slot = slotMap[t * KV_HEADS + g];
  if (lid == 0u && slot < arrayLength(&stamp)) {
    stamp[slot] = total / f32(group);
  }
}
