// The per-step uniform (src/gpu/step-params.ts writes it once per step), joined by the host of
// every shader that binds it as `step`.
// A step may carry the answer-first probe's rows (src/policies/probe.ts) after its real tokens:
// rows [0, real_rows) are real (their K/V are kept, the policy folds their attention), then the
// answer block [real_rows, real_rows + answer_rows), then the lookahead block up to rows. Each
// probe block starts at the position right after the real tokens, so a lookahead row sits
// answer_rows positions before its row index says.
struct Step {
  rows: u32,        // tokens processed this step: 1 when decoding, up to the prefill tile
  pos_start: u32,   // absolute position of the first of them
  real_rows: u32,   // rows that are real tokens (= rows when the step has no probe rows)
  answer_rows: u32, // the probe's answer block after them; the lookahead block fills the rest
}

// Absolute position of row t.
fn row_position(t: u32) -> u32 {
  return step.pos_start + t - select(0u, step.answer_rows, t >= step.real_rows + step.answer_rows);
}

// The first row of the probe block row t belongs to (t >= real_rows).
fn probe_block_start(t: u32) -> u32 {
  return select(step.real_rows, step.real_rows + step.answer_rows, t >= step.real_rows + step.answer_rows);
}
