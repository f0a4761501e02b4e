/**
 * Crystal-KV's adaptive budgets (arXiv 2601.16986): every R steps the total budget is
 * re-divided by utilisation, first across layers, then across the heads of each layer. Every
 * head keeps a floor (a share of the uniform budget); the rest goes in proportion to load.
 * Integer budgets by largest remainder, so the total is exactly conserved.
 */

/** The smallest budget a head is given: `share` of the uniform budget, and always more than the recent window. */
export function budgetFloor(share: number, budget: number, recent: number): number {
  return Math.max(recent + 1, Math.ceil(share * budget));
}

/**
 * Budgets move only under pressure: once every head holds its limit. Before that, a re-division
 * could only shrink heads that are still filling and evict entries no budget asked to drop.
 */
export function budgetsFull(counts: ArrayLike<number>, limits: ArrayLike<number>): boolean {
  for (let i = 0; i < counts.length; i++) if (counts[i] < limits[i]) return false;
  return true;
}

/** Splits `total` into parts of at least `floor`, the remainder in proportion to `weights`. */
export function proportionalSplit(total: number, weights: ArrayLike<number>, floor: number): Int32Array {
  const n = weights.length;
  const out = new Int32Array(n).fill(floor);
  const rest = total - floor * n;
  if (rest < 0) throw new Error(`budget ${total} cannot give ${n} parts a floor of ${floor}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.max(0, weights[i]);
  const shares = Array.from({ length: n }, (_, i) => (sum > 0 ? (Math.max(0, weights[i]) / sum) * rest : rest / n));
  let given = 0;
  for (let i = 0; i < n; i++) {
    const whole = Math.floor(shares[i]);
    out[i] += whole;
    given += whole;
  }
  // Largest remainders take the units left; ties go to the lower index (deterministic).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => shares[b] - Math.floor(shares[b]) - (shares[a] - Math.floor(shares[a])) || a - b);
  for (let k = 0; k < rest - given; k++) out[order[k]]++;
  return out;
}

/**
 * New per-head budgets (layers * kvHeads) from each head's load (its entries' summed score).
 * Layer budgets follow the layers' utilisation (load / current budget), then head budgets within
 * a layer follow the heads' utilisation; each head gets at least `floor`.
 */
export function reallocateBudgets(
  loads: Float64Array, // (layers * kvHeads)
  budgets: Int32Array, // (layers * kvHeads) current per-head budgets
  layers: number,
  kvHeads: number,
  floor: number,
): Int32Array {
  let total = 0;
  for (const b of budgets) total += b;
  const layerUtil = new Float64Array(layers);
  for (let l = 0; l < layers; l++) {
    let load = 0;
    let budget = 0;
    for (let h = 0; h < kvHeads; h++) {
      load += loads[l * kvHeads + h];
      budget += budgets[l * kvHeads + h];
    }
    layerUtil[l] = load / budget;
  }
  const layerBudgets = proportionalSplit(total, layerUtil, floor * kvHeads);
  const out = new Int32Array(layers * kvHeads);
  for (let l = 0; l < layers; l++) {
    const util = Array.from({ length: kvHeads }, (_, h) => loads[l * kvHeads + h] / budgets[l * kvHeads + h]);
    out.set(proportionalSplit(layerBudgets[l], util, floor), l * kvHeads);
  }
  return out;
}
