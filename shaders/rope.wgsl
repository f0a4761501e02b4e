// Rotary position embedding, rotate-half (NeoX / Hugging Face), in place. With HALF = HEAD_DIM / 2,
// p = step.pos_start + t and i < HALF:
//   x'[t, h, i]        = x[t, h, i] * cos[p, i] - x[t, h, i + HALF] * sin[p, i]
//   x'[t, h, i + HALF] = x[t, h, i + HALF] * cos[p, i] + x[t, h, i] * sin[p, i]
// The cos/sin tables are built on the host in float32 exactly as Hugging Face builds them, so no
// angle is computed here.
// The host joins step.wgsl (Step) to this file.
// Dispatch: (ceil(HEADS * HEAD_DIM / 2 / WG), rows, 1) workgroups of WG threads; one thread per
// (head, i) pair of token t = workgroup_id.y.

override HEADS: u32;
override HEAD_DIM: u32; // even
override WG: u32 = 64;
override HALF: u32 = HEAD_DIM / 2u; // derived, never set by the host

@group(0) @binding(0) var<uniform> step: Step;                  // this step's rows and pos_start
@group(0) @binding(1) var<storage, read_write> x: array<f32>;   // (rows, HEADS, HEAD_DIM)
@group(0) @binding(2) var<storage, read> cos: array<f32>;       // (maxPositions, HEAD_DIM / 2)
@group(0) @binding(3) var<storage, read> sin: array<f32>;       // (maxPositions, HEAD_DIM / 2)

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let t = wg.y;
  if (gid.x >= HEADS * HALF || t >= step.rows) {
    return;
  }
  let h = gid.x / HALF;
  let i = gid.x % HALF;
  let base = (t * HEADS + h) * HEAD_DIM + i;
  let table = (step.pos_start + t) * HALF + i;
  let c = cos[table];
  let s = sin[table];
  let a = x[base];
  let b = x[base + HALF];
  x[base] = a * c - b * s;
  x[base + HALF] = b * c + a * s;
}
