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
  /**
   * A second probe beside the answer's (neither sees the other's rows): `look` rows of the
   * model's own think continuation, each the previous step's greedy prediction for its position.
   * 0: none.
   */
  look: number;
  /** Per probe fold, how much of an entry's probe score carries over (each probe folds once a step). */
  decay: number;
}

/**
 * One step's probe rows. The lookahead's first rows cannot be known before the first step (its
 * row 0 is the step's own next token): then `look` is empty and `bootstrapLook` asks the engine
 * to decode that block greedily from the step's own prediction, once.
 */
export interface ProbeRequest {
  answer: readonly number[];
  look: readonly number[];
  bootstrapLook: number;
}

/** The greedy prediction after each probe row, per block. */
export interface ProbeResult {
  answer: number[];
  look: number[];
}

/**
 * The rows of every step of one generation, lagged one step: the end-of-think token, the
 * template's text after it, then the answer tokens the previous step's probe predicted (fewer at
 * the first steps); and the lookahead's rows, this step's positions predicted by the previous
 * step's lookahead. The decode loop and the replay both run it.
 */
export class ProbeSchedule {
  private answerTokens: number[] = [];
  private lookTokens: number[] = [];

  constructor(
    readonly spec: ProbeSpec,
    private readonly thinkEndId: number,
    private readonly afterThink: readonly number[],
  ) {}

  request(): ProbeRequest {
    const look = this.spec.look > 0 && this.lookTokens.length === this.spec.look ? this.lookTokens : [];
    return {
      answer: [this.thinkEndId, ...this.afterThink, ...this.answerTokens],
      look,
      bootstrapLook: this.spec.look > 0 && look.length === 0 ? this.spec.look : 0,
    };
  }

  /**
   * The next step's tokens from this step's predictions. The prediction after the last forced row
   * is the first answer token, and so on; the lookahead's row i of the next step sits at the
   * position this step's row i predicts.
   */
  advance(result: ProbeResult): void {
    const forced = 1 + this.afterThink.length;
    this.answerTokens = result.answer.slice(forced - 1, forced - 1 + this.spec.answer);
    this.lookTokens = result.look.slice(0, this.spec.look);
  }
}

/** One entry's fold: probe = max(decay * probe, seen). */
export function foldProbe(probe: Float64Array, slot: number, seen: number, decay: number): void {
  probe[slot] = Math.max(decay * probe[slot], seen);
}
