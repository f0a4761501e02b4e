/**
 * CPU reference of paged-attention.wgsl, in f64 so the reference is better than the kernel.
 * The CPU reference engine calls it every step, so it reads each K/V row once per GQA group
 * (not once per query head) and avoids allocation inside its loops: pass `out` and `probs` to
 * reuse buffers.
 */
import { pagedSlot } from './paged-slot.ref.ts';

export interface PagedAttentionRefArgs {
  heads: number;
  kvHeads: number;
  headDim: number;
  pageSize: number;
  maxPages: number;
  scale: number;
  rows: number;
  posStart: number; // absolute position of row 0
  q: ArrayLike<number>; // (rows, heads, headDim)
  kPool: ArrayLike<number>; // (numSlots, headDim)
  vPool: ArrayLike<number>; // (numSlots, headDim)
  slotPos: ArrayLike<number>; // (numSlots) absolute position, -1 if empty
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  out?: Float64Array; // (rows, heads, headDim)
  probs?: Float64Array; // (rows, heads, maxPages * pageSize); entries s >= headSlots[g] untouched
  /**
   * The answer-first probe's rows after the real ones (step.wgsl): rows >= realRows also attend
   * to their own block's rows (answer block, then lookahead block), whose K/V sit at
   * slotMap[(row, kvHead)] outside every block table.
   */
  probe?: { realRows: number; answerRows: number; slotMap: ArrayLike<number> };
}

/** Absolute position of row t (step.wgsl's row_position): the lookahead block sits where the answer block does. */
export function rowPosition(posStart: number, t: number, probe?: { realRows: number; answerRows: number }): number {
  return posStart + t - (probe && t >= probe.realRows + probe.answerRows ? probe.answerRows : 0);
}

/** The rows of row t's own probe block that it attends to: [first, t], empty for a real row. */
function probeBlock(t: number, probe?: { realRows: number; answerRows: number }): number {
  if (!probe || t < probe.realRows) return t + 1;
  return t >= probe.realRows + probe.answerRows ? probe.realRows + probe.answerRows : probe.realRows;
}

export function pagedAttentionRef(a: PagedAttentionRefArgs): { out: Float64Array; probs: Float64Array } {
  const { heads, kvHeads, headDim: D, pageSize, maxPages, scale, rows, posStart, q, kPool, vPool, slotPos, blockTable } = a;
  const maxSlots = maxPages * pageSize;
  const out = a.out ?? new Float64Array(rows * heads * D);
  const probs = a.probs ?? new Float64Array(rows * heads * maxSlots);
  const group = heads / kvHeads;
  out.fill(0, 0, rows * heads * D);
  const probeScores = new Float64Array(rows); // one head's scores, then probabilities, of its block's probe keys
  for (let t = 0; t < rows; t++) {
    const p = rowPosition(posStart, t, a.probe);
    const first = probeBlock(t, a.probe);
    const probeSlot = (j: number, g: number) => a.probe!.slotMap[j * kvHeads + g];
    for (let g = 0; g < kvHeads; g++) {
      const n = Math.min(a.headSlots[g], maxSlots);
      const h0 = g * group;
      const row0 = (t * heads + h0) * maxSlots; // probs row of the group's first head
      const q0 = (t * heads + h0) * D;

      // Scores: each valid K row is read once and dotted with every query head of the group.
      for (let s = 0; s < n; s++) {
        const phys = pagedSlot(blockTable, g * maxPages, pageSize, s);
        const pos = slotPos[phys];
        if (pos < 0 || pos > p) {
          for (let j = 0; j < group; j++) probs[row0 + j * maxSlots + s] = -Infinity; // exp gives 0
          continue;
        }
        const kBase = phys * D;
        for (let j = 0; j < group; j++) {
          const qBase = q0 + j * D;
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[qBase + i] * kPool[kBase + i];
          probs[row0 + j * maxSlots + s] = scale * dot;
        }
      }

      // Softmax per head, max-subtracted; a row with no valid slot is all zeros, not NaN. A probe
      // row's own block joins the normaliser and the output but has no probs entry.
      for (let j = 0; j < group; j++) {
        const row = row0 + j * maxSlots;
        const qBase = q0 + j * D;
        let max = -Infinity;
        for (let s = 0; s < n; s++) if (probs[row + s] > max) max = probs[row + s];
        for (let r = first; r <= t; r++) {
          const kBase = probeSlot(r, g) * D;
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[qBase + i] * kPool[kBase + i];
          probeScores[r] = scale * dot;
          if (probeScores[r] > max) max = probeScores[r];
        }
        if (max === -Infinity) {
          probs.fill(0, row, row + n);
          continue;
        }
        let sum = 0;
        for (let s = 0; s < n; s++) {
          const e = Math.exp(probs[row + s] - max);
          probs[row + s] = e;
          sum += e;
        }
        for (let r = first; r <= t; r++) sum += probeScores[r] = Math.exp(probeScores[r] - max);
        const inv = 1 / sum;
        for (let s = 0; s < n; s++) probs[row + s] *= inv;
        for (let r = first; r <= t; r++) {
          const vBase = probeSlot(r, g) * D;
          for (let i = 0; i < D; i++) out[qBase + i] += probeScores[r] * inv * vPool[vBase + i];
        }
      }

      // Output: each V row read once, added into every head of the group that attends to it.
      for (let s = 0; s < n; s++) {
        let vBase = -1;
        for (let j = 0; j < group; j++) {
          const pr = probs[row0 + j * maxSlots + s];
          if (pr === 0) continue;
          if (vBase < 0) vBase = pagedSlot(blockTable, g * maxPages, pageSize, s) * D;
          const oBase = q0 + j * D;
          for (let i = 0; i < D; i++) out[oBase + i] += pr * vPool[vBase + i];
        }
      }
    }
  }
  return { out, probs };
}
