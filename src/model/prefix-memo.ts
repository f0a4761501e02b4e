/**
 * A memo of one prompt's forward steps for the CPU reference, so an evaluation that runs many
 * cache configs on the same prompt computes their shared beginning once. Until a config first
 * evicts, its cache holds every position of the same token history, so each forward step is
 * bit-identical to the first run's: the memo replays the step's K and V rows, the attention
 * rows the policy observes, and the logits, and the policy code runs as usual on them. From the
 * first eviction on (a prompt cut, a full head), nothing is replayed.
 *
 * Greedy decoding on one prompt makes every config's pristine prefix the same token history;
 * the memo still checks every step's tokens and that the sequence matched from position 0.
 */

import type { ProbeRequest, ProbeResult } from '../policies/probe.ts';

/** One recorded forward call: `rows` tokens from `posStart`, with `slots` cache entries after it. */
export interface MemoStep {
  tokens: number[];
  slots: number; // = posStart + rows: every entry of the pristine cache
  k: Float64Array[]; // per layer (rows, kvHeads, headDim) after RoPE and norms
  v: Float64Array[]; // per layer (rows, kvHeads, headDim)
  q: Float64Array[]; // per layer (rows, heads, headDim) after the q norm, before RoPE (query statistics)
  probs: Float64Array[]; // per layer (rows, heads, slots) attention per logical slot
  logits: Float64Array; // (rows or 1, vocab) as returned
  allRows: boolean; // whether logits hold every row
}

/**
 * One recorded probe (policies/probe.ts) after a pristine step: what each folded block saw and
 * the predictions. On a pristine cache a probe reads the same entries whatever the policy, so
 * every config with the same probe rows folds the same values.
 */
export interface MemoProbe {
  seen: Float64Array[][]; // per folded block, per layer (kvHeads, at): most attention per position
  result: ProbeResult;
}

export class PrefixMemo {
  private readonly steps = new Map<number, MemoStep>();
  private readonly probes = new Map<string, MemoProbe>(); // by position and probe rows
  replayedProbes = 0;
  /** Position up to which the current sequence equals the recording (-1: it diverged). */
  private matchedEnd = 0;
  replayedRows = 0;
  computedRows = 0;

  /** A new sequence on the same prompt. */
  restart(): void {
    this.matchedEnd = 0;
  }

  /**
   * The recorded step to replay, or null. `pristine`: the cache holds every position below
   * posStart and nothing was evicted.
   */
  lookup(tokens: readonly number[], posStart: number, pristine: boolean, allRows: boolean): MemoStep | null {
    if (!pristine || this.matchedEnd !== posStart) {
      this.matchedEnd = -1;
      return null;
    }
    const step = this.steps.get(posStart);
    if (!step) return null;
    if (step.allRows !== allRows || step.tokens.length !== tokens.length || step.tokens.some((t, i) => t !== tokens[i])) {
      this.matchedEnd = -1;
      return null;
    }
    this.matchedEnd += tokens.length;
    this.replayedRows += tokens.length;
    return step;
  }

  /** Whether a computed step should be recorded: the sequence is pristine and matched so far. */
  wantsRecord(posStart: number, pristine: boolean): boolean {
    return pristine && this.matchedEnd === posStart && !this.steps.has(posStart);
  }

  record(posStart: number, step: MemoStep): void {
    this.steps.set(posStart, step);
    this.matchedEnd = posStart + step.tokens.length;
  }

  /** Counts a computed step; a step that was not recorded ends the match. */
  computed(rows: number, recorded: boolean): void {
    this.computedRows += rows;
    if (!recorded) this.matchedEnd = -1;
  }

  /**
   * The probe recorded at `at` with these rows, or null. Only right after a step that matched the
   * recording (replayed or recorded), on a pristine cache: then the probe sees what it saw.
   */
  probeAt(at: number, rows: ProbeRequest, pristine: boolean): MemoProbe | null {
    if (!pristine || this.matchedEnd !== at) return null;
    const probe = this.probes.get(probeKey(at, rows)) ?? null;
    if (probe) this.replayedProbes++;
    return probe;
  }

  /** Whether a probe computed at `at` should be recorded (same conditions as probeAt). */
  wantsProbe(at: number, rows: ProbeRequest, pristine: boolean): boolean {
    return pristine && this.matchedEnd === at && !this.probes.has(probeKey(at, rows));
  }

  recordProbe(at: number, rows: ProbeRequest, probe: MemoProbe): void {
    this.probes.set(probeKey(at, rows), probe);
  }
}

function probeKey(at: number, rows: ProbeRequest): string {
  return `${at}|${rows.answer.join(',')}|${rows.look.join(',')}|${rows.bootstrapLook}`;
}
