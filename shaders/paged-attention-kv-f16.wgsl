// K/V format helper for the split-K attention kernels: pools of f16 pairs (16-bit models, packed
// with pack2x16float as rope-append writes them), read four halves at a time without shader-f16.
// The host concatenates it after the kernel's own file; the kernel declares its pools as
// array<KvQuad> of (numSlots, HEAD_DIM / 4) and reads each quad through kv_quad.

alias KvQuad = vec2<u32>; // 2 words of 2 halves each, low half first

fn kv_quad(w: KvQuad) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}
