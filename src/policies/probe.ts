/**
 * The answer-first probe: Crystal-KV's answer-first principle (arXiv 2601.16986), measured
 * online. While the model thinks, each decode step also runs a few probe rows after its real
 * token: the end-of-think token, what the chat template writes right after it, then `answer`
 * answer tokens that the previous step's probe predicted greedily (lagged, so every row is known
 * before the step). The rows attend over the cache as a real answer would, but their K/V are
 * never kept. An entry's probe score is its decayed maximum attention from them:
 *   probe[slot] = max(decay * probe[slot], seen[slot]),
 *   seen[slot]  = max over probe rows of the attention paid to the entry, summed over the KV
 *                 group's query heads,
 * so an entry the answer would read stays marked for a while after the probe last read it. A new
 * entry starts at 0. After </think> the probe stops (the answer itself is being written).
 * The figures this follows are the independent simulation's (../shared/sim/probe_sim.py).
 */

/** What the chat templates we run write right after </think>: the probe's forced rows after end-of-think. */
export const AFTER_THINK_TEXT = '\n\n';

export interface ProbeSpec {
  /** Answer tokens after the forced rows, each the previous step's greedy prediction. */
  answer: number;
  /** Per probe fold, how much of an entry's probe score carries over (each probe folds once a step). */
  decay: number;
}

/**
 * The probe rows of one step: end-of-think, the template's text after it, then the answer tokens
 * the previous probe predicted (fewer at the first step, when there are none yet).
 */
export function probeRows(thinkEndId: number, afterThink: readonly number[], predicted: readonly number[], spec: ProbeSpec): number[] {
  return [thinkEndId, ...afterThink, ...predicted.slice(0, spec.answer)];
}

/**
 * The answer tokens the next step's rows take, from this step's greedy prediction after each row:
 * the prediction after the last forced row is the first answer token, and so on.
 */
export function nextAnswerTokens(predictions: readonly number[], forcedRows: number, spec: ProbeSpec): number[] {
  return predictions.slice(forcedRows - 1, forcedRows - 1 + spec.answer);
}

/** One entry's fold: probe = max(decay * probe, seen). */
export function foldProbe(probe: Float64Array, slot: number, seen: number, decay: number): void {
  probe[slot] = Math.max(decay * probe[slot], seen);
}
