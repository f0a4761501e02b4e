// K/V format helper for the split-K attention kernels: pools of f32 values, read four at a time.
// The host concatenates it after the kernel's own file; the kernel declares its pools as
// array<KvQuad> of (numSlots, HEAD_DIM / 4) and reads each quad through kv_quad.

alias KvQuad = vec4<u32>; // 4 f32 bit patterns

fn kv_quad(w: KvQuad) -> vec4<f32> {
  return bitcast<vec4<f32>>(w);
}
