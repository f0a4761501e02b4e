// A bandwidth probe: reads every 16 bytes of `data` once, with vec4 loads, and reduces them, so
// the time it takes is the time to stream the buffer from memory (bench/kernel-bench.ts compares
// every kernel's GB/s against it). The sum wraps (u32), so the result is exact in any order:
//   partial[w] = sum over the vec4s data[i] that workgroup w reads, of i.x + i.y + i.z + i.w  (mod 2^32)
// where thread lid of workgroup w reads i = w * WG + lid, then every T = WG * GROUPS further
// (a grid-stride loop: the threads of the grid read consecutive 16-byte words at once, so every
// load is coalesced), for i < COUNT.
// Dispatch: (GROUPS, 1, 1) workgroups of WG threads, GROUPS <= 65535.

override COUNT: u32; // vec4s in data
override GROUPS: u32; // workgroups in the grid
override WG: u32 = 256; // threads per workgroup, a power of two

@group(0) @binding(0) var<storage, read> data: array<vec4u>;         // (COUNT)
@group(0) @binding(1) var<storage, read_write> partial: array<u32>;  // (GROUPS) wrapping sum per workgroup

var<workgroup> red: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = vec4u(0u);
  for (var i = wg.x * WG + lid; i < COUNT; i += WG * GROUPS) {
    acc += data[i];
  }
  red[lid] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      red[lid] += red[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partial[wg.x] = red[0];
  }
}
