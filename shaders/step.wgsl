// The per-step uniform (src/gpu/step-params.ts writes it once per step), joined by the host of
// every shader that binds it as `step`.
struct Step {
  rows: u32,      // tokens processed this step: 1 when decoding, up to the prefill tile
  pos_start: u32, // absolute position of the first of them
  _pad0: u32,
  _pad1: u32,
}
