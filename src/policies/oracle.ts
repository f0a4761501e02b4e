/**
 * oracle: eviction with hindsight, a research instrument (the CPU reference and the eval only).
 * A full-cache run of the same prompt is recorded first (recordingPolicy: it never evicts and
 * hands every query's attention to a Hindsight); a budgeted run of that prompt then evicts, at each
 * step, by what the rest of the recorded run will do with each entry. It reads the future, so it
 * is a ceiling-style reference for attention-based policies, not a deployable policy; and once
 * the budgeted run's tokens leave the recorded ones (a different sample), its hindsight is about
 * a run that no longer happens.
 *
 * The rules. The token about to be written is at `position`, so "the rest of the run" is the
 * recorded queries q >= position (the one about to be written included: it will attend to the
 * cache as it is after this eviction). For one (layer, kvHead), attention(q, p) is what query q
 * paid key p (p <= q) in the recorded run, combined over the KV group's query heads as the engine
 * combines them for observe (the mean: recordingPolicy does not set `combine`).
 * - variant 0, least future attention mass: score = F[position][p] = sum over recorded q >= position
 *   of attention(q, p). Lowest goes; ties to the lowest logical slot (select.ts).
 * - variant 1, farthest next use (Belady): entry p is "used" by query q when attention(q, p) >=
 *   1 / (q + 1), at least the uniform share of the q + 1 keys that query saw in the full cache;
 *   N[position][p] = the first recorded q >= position that uses p. The entry whose next use is
 *   farthest goes; never used again counts as used at T (the recorded run's length, one past its
 *   last query), farther than every real use. Equal next uses go to the lower future mass
 *   F[position][p], and only exact ties (same next use, same stored f32 mass) to the lowest
 *   logical slot. Both keys are one exact number:
 *     score = -nextUse + bits(F) / 2^31,
 *   bits(F) the IEEE bit pattern of the f32 mass read as an unsigned integer (for non-negative
 *   floats it orders like the value, and it is below 2^31, so the fraction lies in [0, 1)). The
 *   sum is exact in f64 (it is an integer below 2^53 divided by 2^31 while nextUse < 2^22, which
 *   record enforces), so a different next use is never outweighed and a different mass never
 *   rounds into a tie. An entry with no future mass scores exactly -nextUse.
 *
 * - limited foresight (variant 0 only, for the replay instrument: how much future a policy needs):
 *   horizon H > 0 counts only the queries q in [position, position + H): F[position][p] -
 *   F[position + H][p]; answer 1 counts only the answer's queries, q >= max(position, answerFrom),
 *   answerFrom being the first position after </think> in the recorded run (none if it never
 *   closed: every entry then scores 0). Both together: the answer's queries within the horizon.
 *
 * Choices where nothing else decides: the queries counted are the recorded ones at and after the
 * token about to be written; "used" is above-or-equal uniform over the keys the query saw (q + 1,
 * counted from the positions it was given that are <= q: at prefill the head's later prompt
 * entries arrive masked with attention 0 and are not keys that query saw, so they neither count
 * nor are recorded); queries beyond the recorded run have no attention (F = 0, never used), so
 * past its end every entry ties and the lowest logical slot goes; an entry newer than `position`
 * (none in practice) is read from its own row. The hindsight must be a full-cache run: record
 * rejects a query that saw other than q + 1 keys, a query recorded twice, a layer or head out of
 * range, and finish rejects a head whose queries are not exactly 0..T-1 with T the same for all.
 *
 * Storage: per (layer, kvHead), row q holds F[q][0..q] as f32 (summed in f64, stored rounded)
 * and N[q][0..q] as i32 (-1: never), T (T + 1) / 2 each, 8 bytes an entry in all: 1100 tokens on 8
 * heads is about 39 MB. score() is O(1) per entry. Sinks 0, recent 0: nothing is protected; the
 * policy keeps no state. The oracle has no GPU rule (it is CPU-reference only).
 */
import { resolveParams } from './params.ts';

/** Positions must stay below this for the Belady score to be exact (score = -nextUse + fraction). */
export const ORACLE_MAX_POSITION = 2 ** 22;
const ORACLE_MAX_POSITION_PARAM = ORACLE_MAX_POSITION;
import { definePolicy, type EvictionPolicy } from './policy.ts';

export const ORACLE_PARAMS = {
  variant: { default: 0, min: 0, max: 1, integer: true, doc: '0 lowest future attention mass, 1 farthest next use (Belady)' },
  horizon: { default: 0, min: 0, max: ORACLE_MAX_POSITION_PARAM, integer: true, doc: 'variant 0: count only the next `horizon` queries (0: the whole rest of the run)' },
  answer: { default: 0, min: 0, max: 1, integer: true, doc: "variant 0: count only the answer's queries (those after </think> in the recorded run)" },
} as const;

const CPU_ONLY = 'the oracle reads a full-cache run of the same prompt (hindsight); it is a CPU-reference research instrument';

/** What the oracle and its recorder share: per head, nothing protected, no state of their own, no GPU rule. */
const UNPROTECTED_CPU_ONLY = { granularity: 'head', sinks: 0, recent: 0, historyWindow: 0, gpu: { cpuOnly: CPU_ONLY } } as const;



/**
 * The attention of a full-cache run, per (layer, kvHead) and query, turned by finish() into the
 * future attention mass F[q][p] and the next use N[q][p] (see the header).
 */
export class Hindsight {
  readonly layers: number;
  readonly kvHeads: number;
  // Per (layer * kvHeads + kvHead), per query q: (q + 1) values by key position. While recording
  // `mass` holds attention(q, p) and `next` 1 where p is used by q; after finish F and N (-1: never).
  private readonly massRows: Float32Array[][];
  private readonly nextRows: Int32Array[][];
  private done = false;
  private runLength = 0;
  /** The position of the recorded run's first answer query (after </think>); the run's length when it never closed. Set by the recorder's caller. */
  answerFrom = Infinity;

  constructor(layers: number, kvHeads: number) {
    if (!Number.isInteger(layers) || layers < 1 || !Number.isInteger(kvHeads) || kvHeads < 1) {
      throw new Error(`Hindsight needs at least one layer and one KV head, got (${layers}, ${kvHeads})`);
    }
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.massRows = Array.from({ length: layers * kvHeads }, () => []);
    this.nextRows = Array.from({ length: layers * kvHeads }, () => []);
  }

  get finished(): boolean {
    return this.done;
  }

  /** Queries recorded per head (T: the positions 0..T-1), once finished. */
  get length(): number {
    this.requireFinished('length');
    return this.runLength;
  }

  /** Bytes the rows hold. */
  get bytes(): number {
    let n = 0;
    for (const rows of this.massRows) for (const r of rows) if (r) n += 8 * r.length;
    return n;
  }

  /**
   * The attention query `query` paid the keys of head (layer, kvHead): attention[i] belongs to
   * positions[i], i < length, as EvictionPolicy.observe receives them (head.positions,
   * head.length). Entries after the query (masked at prefill) are ignored.
   */
  record(layer: number, kvHead: number, query: number, positions: ArrayLike<number>, attention: ArrayLike<number>, length: number): void {
    if (this.done) throw new Error('Hindsight.record after finish(): the hindsight is frozen');
    const pair = this.pair(layer, kvHead);
    if (!Number.isInteger(query) || query < 0 || query >= ORACLE_MAX_POSITION - 1) {
      throw new Error(`Hindsight.record: query position ${query} is outside 0..${ORACLE_MAX_POSITION - 2}`);
    }
    if (this.massRows[pair][query]) throw new Error(`Hindsight.record: query ${query} of head (${layer}, ${kvHead}) recorded twice`);
    let keys = 0;
    for (let i = 0; i < length; i++) if (positions[i] >= 0 && positions[i] <= query) keys++;
    if (keys !== query + 1) {
      throw new Error(
        `Hindsight.record: query ${query} of head (${layer}, ${kvHead}) saw ${keys} keys, not ${query + 1}: ` +
          'the hindsight must be recorded from a full-cache run (recordingPolicy, no budget)',
      );
    }
    const mass = new Float32Array(query + 1);
    const used = new Int32Array(query + 1);
    const uniform = 1 / keys;
    for (let i = 0; i < length; i++) {
      const p = positions[i];
      if (p < 0 || p > query) continue;
      mass[p] = attention[i];
      used[p] = attention[i] >= uniform ? 1 : 0;
    }
    this.massRows[pair][query] = mass;
    this.nextRows[pair][query] = used;
  }

  /** Freezes the recording and turns it into F and N. Returns this. */
  finish(): this {
    if (this.done) return this;
    let T = -1;
    for (let pair = 0; pair < this.massRows.length; pair++) {
      const rows = this.massRows[pair];
      const [layer, kvHead] = [Math.floor(pair / this.kvHeads), pair % this.kvHeads];
      for (let q = 0; q < rows.length; q++) {
        if (!rows[q]) throw new Error(`Hindsight.finish: head (${layer}, ${kvHead}) lacks query ${q} (of 0..${rows.length - 1})`);
      }
      if (T < 0) T = rows.length;
      else if (rows.length !== T) {
        throw new Error(`Hindsight.finish: head (${layer}, ${kvHead}) recorded ${rows.length} queries, head (0, 0) ${T}`);
      }
    }
    if (T === 0) throw new Error('Hindsight.finish: nothing was recorded (run the full cache with recordingPolicy(hindsight) first)');
    for (let pair = 0; pair < this.massRows.length; pair++) {
      const acc = new Float64Array(T); // the suffix sums in f64, stored rounded to f32
      const next = new Int32Array(T).fill(-1);
      for (let q = T - 1; q >= 0; q--) {
        const F = this.massRows[pair][q];
        const N = this.nextRows[pair][q];
        for (let p = 0; p <= q; p++) {
          acc[p] += F[p];
          F[p] = acc[p];
          if (N[p]) next[p] = q;
          N[p] = next[p];
        }
      }
    }
    this.runLength = T;
    this.done = true;
    return this;
  }

  /** F[query][position]: the attention the recorded queries >= query pay `position` (0 past the run). */
  mass(layer: number, kvHead: number, query: number, position: number): number {
    this.requireFinished('mass');
    const row = Math.max(query, position);
    if (row >= this.runLength) return 0;
    return this.massRows[this.pair(layer, kvHead)][Math.max(0, row)][position];
  }

  /** attention(query, position): what recorded query `query` itself paid `position` (0 past the run or after the query). */
  attention(layer: number, kvHead: number, query: number, position: number): number {
    this.requireFinished('attention');
    if (query >= this.runLength || position > query) return 0;
    return this.mass(layer, kvHead, query, position) - this.mass(layer, kvHead, query + 1, position);
  }

  /** N[query][position]: the first recorded query >= query that uses `position`; Infinity if none. */
  nextUse(layer: number, kvHead: number, query: number, position: number): number {
    this.requireFinished('nextUse');
    const row = Math.max(query, position);
    if (row >= this.runLength) return Infinity;
    const n = this.nextRows[this.pair(layer, kvHead)][Math.max(0, row)][position];
    return n < 0 ? Infinity : n;
  }

  private pair(layer: number, kvHead: number): number {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers || !Number.isInteger(kvHead) || kvHead < 0 || kvHead >= this.kvHeads) {
      throw new Error(`Hindsight: head (${layer}, ${kvHead}) is outside (${this.layers} layers, ${this.kvHeads} KV heads)`);
    }
    return layer * this.kvHeads + kvHead;
  }

  private requireFinished(what: string): void {
    if (!this.done) throw new Error(`Hindsight.${what} before finish(): record the full-cache run, then call finish()`);
  }
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * The Belady score of an entry next used at `nextUse` (an integer below ORACLE_MAX_POSITION; the
 * caller maps never to the run's length) with future mass `mass` (>= 0, rounded to f32):
 * -nextUse + bits(mass) / 2^31, exact in f64 (header).
 */
export function beladyScore(nextUse: number, mass: number): number {
  f32[0] = mass;
  return -nextUse + f32Bits[0] / 2 ** 31;
}

/** The oracle over a finished Hindsight of a full-cache run of the same prompt. */
export function createOracle(params: { variant?: number; horizon?: number; answer?: number }, hindsight: Hindsight): EvictionPolicy {
  const { variant, horizon, answer } = resolveParams('oracle', ORACLE_PARAMS, params);
  if (variant !== 0 && (horizon > 0 || answer > 0)) throw new RangeError('oracle: horizon and answer refine variant 0 (future mass) only');
  if (!hindsight.finished) throw new Error('createOracle: the hindsight is not finished (call hindsight.finish() after the full-cache run)');
  const never = hindsight.length; // one past the run's last query: farther than every real use
  return {
    id: 'oracle',
    paper: 'hindsight oracle (research instrument: reads a full-cache run of the same prompt)',
    summary:
      variant === 0
        ? 'Evicts the entry the rest of the recorded full-cache run attends to least (reads the future).'
        : 'Evicts the entry the recorded full-cache run next uses farthest ahead, Belady style (reads the future).',
    ...UNPROTECTED_CPU_ONLY,
    score(_state, head, position, out) {
      for (let i = 0; i < head.length; i++) {
        const p = head.positions[i];
        // Limited foresight: the mass from the first counted query to the end, less what lies past the horizon.
        const from = answer ? Math.max(position, hindsight.answerFrom) : position;
        const mass = hindsight.mass(head.layer, head.kvHead, from, p) - (horizon > 0 ? hindsight.mass(head.layer, head.kvHead, position + horizon, p) : 0);
        if (variant === 0) out[i] = horizon > 0 && from >= position + horizon ? 0 : mass;
        else {
          const n = hindsight.nextUse(head.layer, head.kvHead, position, p);
          out[i] = beladyScore(n === Infinity ? never : n, mass);
        }
      }
    },
  };
}

/** Never evicts (like full) and records every query's attention into `hindsight`: the full-cache run. */
export function recordingPolicy(hindsight: Hindsight): EvictionPolicy {
  return {
    id: 'oracle-record',
    paper: 'no eviction (records the hindsight the oracle reads)',
    summary: "Keeps every KV entry and records each query's attention for the oracle.",
    ...UNPROTECTED_CPU_ONLY,
    observe(_state, head, attention, position) {
      hindsight.record(head.layer, head.kvHead, position, head.positions, attention, head.length);
    },
    score(_state, head, _position, out) {
      out.fill(0, 0, head.length);
    },
  };
}

export const ORACLE = definePolicy({
  id: 'oracle',
  params: ORACLE_PARAMS,
  research: true,
  create: () => {
    throw new Error(
      'The oracle policy needs hindsight: record a full-cache run of the same prompt with recordingPolicy(hindsight), ' +
        'call hindsight.finish(), then use createOracle({ variant }, hindsight) from src/policies/oracle.ts',
    );
  },
});
