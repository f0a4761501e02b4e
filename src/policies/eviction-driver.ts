/**
 * The one eviction driver, shared by both engines. It owns what is decided on the host: each
 * head's limit and budget, the `all`-mode prompt cut, making room before each token, crystal's
 * re-division schedule, applying the victims to the cache and the log of every decision. Which
 * entries go is asked of a VictimChooser, a port with two implementations: the CPU reference's
 * policy code (cpu-chooser.ts) and the GPU engine's kernels (gpu-chooser.ts). Both answer
 * rounds: every head (layer, or the model) over its limit names its victims, the driver frees
 * them, and rounds go on until everything fits.
 *
 * The GPU chooser can also answer inside a step: before the GPU engine submits a step, the
 * driver asks it for the next decode round (beforeStep), the step's own command buffer chooses
 * those victims after the step's attention, and they come back in the step's one read-back
 * (afterStep). The next makeRoom takes them without a dispatch when its first round is exactly
 * the round asked; anything else (the prompt cut, a re-division, a later round) is asked afresh.
 */
import { assert } from '../assert.ts';
import { checkBudget, evictionSpec, headLimit, type CacheConfig } from '../kv/budget.ts';
import { physicalSlot } from '../kv/kv-layout.ts';
import type { KvStore } from '../kv/kv-store.ts';
import type { EvictionPolicy } from './policy.ts';
import { budgetFloor, budgetsFull, reallocateBudgets } from './reallocate.ts';

export interface Eviction {
  /** Position of the token about to be written (or the first decode position, for the cut). */
  at: number;
  layer: number;
  kvHead: number;
  /** Position of the evicted entry. */
  position: number;
}

export interface BudgetChange {
  /** Position of the token about to be written. */
  at: number;
  budgets: Int32Array; // (layers * kvHeads)
}

/** One entry to evict: logical slot `logical` of head (layer, kvHead). */
export interface Victim {
  layer: number;
  kvHead: number;
  logical: number;
}

/** One round's question: which entries go so that every head fits `limits` with `extra` more. */
export interface VictimRound {
  /** The step the scores are taken at (the position of the token about to be written). */
  at: number;
  /** 0: the prompt cut (fit the limit); 1: room for one more token. */
  extra: 0 | 1;
  /** The first round of this cut or step: scores that depend on other entries are computed afresh. */
  first: boolean;
  /** Positions below this are kept (the prompt in `think` mode), else 0. */
  protectBelow: number;
  limits: Int32Array; // (layers * kvHeads) entries each head may hold
  budgets: Int32Array; // (layers * kvHeads) each head's budget (limit less the kept prompt)
}

export interface VictimChooser {
  /**
   * The victims of one round, in eviction order: per head, one (or a burst, the lowest few of one
   * scoring) for every head over its limit; per layer, one position from every head of a layer
   * that is over; across the model, the entries the whole cache must drop (at least one).
   */
  choose(round: VictimRound): Victim[] | Promise<Victim[]>;
  /** crystal: each head's load, its entries at positions >= protectBelow hit (or written) at step >= since. */
  loads(at: number, protectBelow: number, since: number): Float64Array | Promise<Float64Array>;
  /** A chooser that answers a round inside the next step (the GPU's); absent on the CPU reference. */
  inStep?: {
    /** Before the step's submit: the step is to choose the victims of `round` (after its own tokens are appended). */
    ask(round: VictimRound): void;
    /** The victims in what the step read back (the chooser's part of the read-back). */
    answer(readBack: Uint32Array): Victim[];
  };
}

export interface EvictionDriver {
  policy: EvictionPolicy;
  /** (layers * kvHeads) most entries each head may hold; UNLIMITED without a budget. */
  limits: Int32Array;
  /** (layers * kvHeads) each head's budget (limits less the kept prompt in `think` mode). */
  budgets: Int32Array;
  decisions: Eviction[];
  /** Every re-division of the budgets (crystal): the step and each head's new budget. */
  rebalances: BudgetChange[];
  /** Called once the prompt is in the cache: `all` mode cuts every head to its budget. */
  afterPrefill(promptLength: number): Promise<void>;
  /** Before the token at `position` is written: re-divides budgets when due, then evicts from every full head. */
  makeRoom(position: number): Promise<void>;
  /**
   * The GPU engine's one call before a step's submit: room for a decode step's token (makeRoom),
   * the step's `count` tokens appended at `position`, and the next decode round asked of the step.
   */
  /** `probeRows`: the answer-first probe's rows after the step's tokens (scratch slots, never kept). */
  beforeStep(position: number, count: number, probeRows?: number): Promise<void>;
  /** The GPU engine's one call after the step: the chooser's part of what the step read back. */
  afterStep(readBack: Uint32Array): void;
}

export const UNLIMITED = 0x7fffffff;

export function createEvictionDriver(
  policy: EvictionPolicy,
  cache: CacheConfig | undefined, // undefined: the full cache
  store: KvStore,
  chooser: VictimChooser | null, // null when nothing is evicted
): EvictionDriver {
  const g = store.layout.geometry;
  const heads = g.numLayers * g.numKvHeads;
  const spec = evictionSpec(cache);
  if (spec) {
    checkBudget(spec, policy);
    assert(chooser !== null, 'an evicting driver needs a victim chooser');
  }
  const limits = new Int32Array(heads).fill(UNLIMITED);
  const budgets = new Int32Array(heads).fill(spec?.budget ?? 0);
  const decisions: Eviction[] = [];
  const rebalances: BudgetChange[] = [];
  let promptLength = 0;
  const protectBelow = () => (spec?.mode === 'think' ? promptLength : 0);
  const round = (at: number, extra: 0 | 1, first: boolean): VictimRound => ({ at, extra, first, protectBelow: protectBelow(), limits, budgets });
  /** The round asked of the last step (its limits copied, as they were then) and what the step read back for it. */
  let asked: { at: number; protectBelow: number; readBack: Uint32Array | null } | null = null;
  const askedLimits = new Int32Array(heads);

  /** The step's victims, when `r` is the round they were chosen for (nothing moved the limits since). */
  function takeAsked(r: VictimRound): Victim[] | null {
    const a = asked;
    asked = null;
    if (!a?.readBack || !r.first || r.extra !== 1) return null;
    const same = a.at === r.at && a.protectBelow === r.protectBelow && askedLimits.every((n, i) => n === r.limits[i]);
    return same ? chooser!.inStep!.answer(a.readBack) : null;
  }

  function over(extra: number): boolean {
    const count = store.layout.count;
    if (policy.granularity === 'model') {
      let total = 0;
      let limit = 0;
      for (let i = 0; i < heads; i++) {
        total += count[i];
        limit += limits[i];
      }
      return total + extra * heads > limit;
    }
    for (let i = 0; i < heads; i++) if (count[i] + extra > limits[i]) return true;
    return false;
  }

  function apply(victims: readonly Victim[], at: number): void {
    const layout = store.layout;
    const layerPosition = new Map<number, number>(); // tova: the position every head of a layer drops
    for (const { layer, kvHead, logical } of victims) {
      const position = layout.slotPos[physicalSlot(layout, layer, kvHead, logical)];
      if (policy.granularity === 'layer') {
        const want = layerPosition.get(layer) ?? position;
        assert(position === want, `tova: head (${layer}, ${kvHead}) drops position ${position}, the layer ${want}`);
        layerPosition.set(layer, position);
      }
      decisions.push({ at, layer, kvHead, position });
      store.evict(layer, kvHead, logical);
    }
  }

  /** Rounds of victims until every head fits its limit with `extra` more entries. */
  async function shrink(at: number, extra: 0 | 1): Promise<void> {
    for (let first = true; over(extra); first = false) {
      const r = round(at, extra, first);
      const victims = takeAsked(r) ?? (await chooser!.choose(r));
      assert(victims.length > 0, `the cache must drop entries at step ${at} but every entry is protected`);
      apply(victims, at);
    }
  }

  /**
   * crystal: re-divides the budgets by each head's load, its live entries: those the budget counts
   * that were hit (or written) within the last R steps.
   */
  async function rebalance(position: number): Promise<void> {
    const r = policy.rebalance!;
    asked = null; // the step chose under the limits this re-division moves
    const loads = await chooser!.loads(position, protectBelow(), position - r.period);
    const floor = budgetFloor(r.floor, spec!.budget, policy.recent);
    budgets.set(reallocateBudgets(loads, budgets, g.numLayers, g.numKvHeads, floor));
    for (let i = 0; i < heads; i++) limits[i] = headLimit(spec!.mode, budgets[i], promptLength);
    rebalances.push({ at: position, budgets: budgets.slice() });
  }

  async function makeRoom(position: number): Promise<void> {
    if (!spec) return;
    const step = position - promptLength;
    const r = policy.rebalance;
    const rebalancing = r !== undefined && step > 0 && step % r.period === 0 && budgetsFull(store.layout.count, limits);
    if (rebalancing) await rebalance(position);
    await shrink(position, 1);
    asked = null; // used or stale: a step's answer serves only the makeRoom right after it
    if (rebalancing) store.compact(limits); // heads whose budget shrank give their pages back
  }

  return {
    policy,
    limits,
    budgets,
    decisions,
    rebalances,
    async afterPrefill(length) {
      promptLength = length;
      asked = null; // the prefill's steps chose under no limits
      if (!spec) return;
      limits.fill(headLimit(spec.mode, spec.budget, length));
      await shrink(length, 0);
      if (policy.rebalance) store.compact(limits); // moving budgets: the prompt's pages past the budget
    },
    makeRoom,
    async beforeStep(position, count, probeRows = 0) {
      if (count === 1) await makeRoom(position);
      store.append(position, count, probeRows);
      const inStep = spec ? chooser?.inStep : undefined;
      if (!inStep) return;
      // The next decode round, under the limits as they are now (a re-division before it makes it stale).
      const next = round(position + count, 1, true);
      asked = { at: next.at, protectBelow: next.protectBelow, readBack: null };
      askedLimits.set(limits);
      inStep.ask(next);
    },
    afterStep(readBack) {
      if (asked) asked.readBack = readBack;
    },
  };
}
