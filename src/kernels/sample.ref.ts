/**
 * CPU reference of sample.wgsl: the same rule (greedy at temperature 0, else temperature and
 * top-p with a host-drawn u), in f64. The CPU reference engine calls it every step, so the
 * weights and the top-p candidates live in scratch arrays reused across calls, and only the
 * tokens that can be in the nucleus are sorted.
 */
export interface SampleSettings {
  temperature: number; // <= 0: greedy
  topP: number; // >= 1: keep every token
  u: number; // uniform in [0, 1), drawn on the host
}

export interface SampleDetail {
  token: number;
  /**
   * How far the inputs are from changing the answer, as a share of the mass: the distance of
   * u * W to the chosen token's cumulative-mass interval ends, and of top_p * Z to the masses at
   * which the kept set would grow or shrink. Infinity for greedy. An f32 kernel may legitimately
   * choose differently when this is below its rounding error.
   */
  margin: number;
}

let weights = new Float64Array(0); // (vocab) scratch: w_i = exp((l_i - m) / temperature)
let candidates = new Float64Array(0); // (vocab) scratch: logits that may be in the nucleus

export function sampleRef(logits: ArrayLike<number>, s: SampleSettings): number {
  return sampleRefDetail(logits, s).token;
}

export function sampleRefDetail(logits: ArrayLike<number>, s: SampleSettings): SampleDetail {
  const V = logits.length;
  if (s.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return { token: best, margin: Infinity };
  }
  const T = s.temperature;
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > m) m = logits[i];
  if (weights.length < V) {
    weights = new Float64Array(V);
    candidates = new Float64Array(V);
  }
  let z = 0;
  for (let i = 0; i < V; i++) {
    const w = Math.exp((logits[i] - m) / T);
    weights[i] = w;
    z += w;
  }

  // lambda: the largest logit whose tokens at or above it hold top_p * Z. Only tokens with
  // w >= c can be in the nucleus if those alone already hold the target mass; lower c until so.
  let cut = -Infinity;
  let kept = z; // W
  let marginP = Infinity;
  if (s.topP < 1) {
    const target = s.topP * z;
    let n = 0;
    for (let c = 1e-4; ; c = c > 1e-40 ? c * 1e-6 : 0) {
      n = 0;
      let mass = 0;
      for (let i = 0; i < V; i++) {
        if (weights[i] >= c) {
          candidates[n++] = logits[i];
          mass += weights[i];
        }
      }
      if (mass >= target || c === 0) break;
    }
    const sorted = candidates.subarray(0, n).sort();
    let cum = 0;
    cut = sorted[0];
    for (let j = n - 1; j >= 0; j--) {
      cum += Math.exp((sorted[j] - m) / T);
      if (cum >= target) {
        cut = sorted[j];
        break;
      }
    }
    kept = 0;
    let massAbove = 0;
    for (let i = 0; i < V; i++) {
      if (logits[i] >= cut) kept += weights[i];
      if (logits[i] > cut) massAbove += weights[i];
    }
    // Below the top logit, the kept set would shrink if top_p * Z fell to massAbove.
    marginP = Math.min(kept - target, cut === m ? Infinity : target - massAbove) / z;
  }

  const x = s.u * kept;
  let cum = 0;
  let last = -1;
  for (let i = 0; i < V; i++) {
    if (!(logits[i] >= cut) || weights[i] === 0) continue;
    const before = cum;
    cum += weights[i];
    last = i;
    // Both sides start the cumulative sum at exactly 0: the first kept token has no lower boundary.
    const below = before === 0 ? Infinity : (x - before) / kept;
    if (cum > x) return { token: i, margin: Math.min(marginP, below, (cum - x) / kept) };
  }
  return { token: last, margin: 0 };
}
