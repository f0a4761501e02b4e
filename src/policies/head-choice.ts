/**
 * head-choice: each KV head chooses its own eviction rule online, a research policy (the CPU
 * reference and the eval). Rankings of the rules flip between models and budgets, and none of the
 * published methods adapts per head; this one learns per (layer, KV head) which rule loses the
 * least attention, while it decodes.
 *
 * The rules (each a keep score; the lowest candidate goes):
 *   0 recency            the position
 *   1 h2o                attention accumulated over every query (state.score)
 *   2 h2o-decay 0.9      the same, decayed by `decay` per query (state.stamp)
 *   3 probe              the answer-first probe's score (policies/probe.ts), then recency
 *   4 expected attention the expected future attention (policies/expected-attention.ts)
 *   5 random             a seeded draw (kernels/random-score.ts)
 * The losses (Hedge, full information): at every decision each rule names the candidate it would
 * evict, and a copy of that entry's key joins the rule's ghost list (the last `ghosts` per rule
 * and head). At each later query the attention a ghost would receive, its logit against the live
 * softmax normaliser (exp(q . k / sqrt(d) - log Z), the mean over the KV group's query heads), is
 * charged to its rule, evicted or not (an entry still held receives exactly that). A rule's loss
 * is that charge discounted by `forget` per query; the head follows the rule with the least loss
 * (Hedge's weights exp(-eta * loss) in the limit of a large eta, over a moving window), and
 * random when random's loss is as low as the best of the others'.
 * Answer first: with `weight` > 0 the keep score is the chosen rule's rank among the head's
 * entries (0..1) plus weight * probe / max(probe), so what the answer probe marks is kept first
 * and the chosen rule orders the rest (the ghost losses measure the think's own queries, which
 * see what keeps the think chain alive, not what the answer will read).
 * Choices where nothing else decides: snapkv-d's pooled window and r-kv's key redundancy are not
 * among the rules (their cost per step on the CPU reference, O(n) and O(n^2 d) per head, for
 * little that h2o-decay and expected attention do not cover); the probe rows always run (rule 3
 * needs them); ties between weights go to the lower rule number; the 16 newest entries and, in
 * think mode, the prompt are kept; no sinks.
 */
import { assert } from '../assert.ts';
import { lowestCandidate, markCandidates } from '../kernels/select.ts';
import { randomScore } from '../kernels/random-score.ts';
import { ropeRef } from '../kernels/rope.ref.ts';
import { expectedAttention, QueryStats } from './expected-attention.ts';
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy, type HeadSlots, type PolicyState } from './policy.ts';

export const HEAD_CHOICE_PARAMS = {
  forget: { default: 0.98, min: 0, max: 1, doc: "per query, how much of a rule's charged attention counts on (the choice follows the recent past)" },
  ghosts: { default: 8, min: 1, max: 256, integer: true, doc: 'victims remembered per rule and head' },
  decay: { default: 0.9, min: 0, max: 1, doc: "rule 2's decay per query" },
  horizon: { default: 16, min: 1, max: 1024, integer: true, doc: "rule 4's future positions" },
  keep: { default: 0.9, min: 0, max: 1, doc: "rule 4's query statistics: the past kept per query" },
  weight: { default: 10, min: 0, max: 1000, doc: "the answer-first probe's weight over the chosen rule (its scores as ranks in 0..1): probe-marked entries kept first; 0: the chosen rule alone" },
  look: { default: 0, min: 0, max: 32, integer: true, doc: "the probe's lookahead rows (policies/probe.ts): the think's own predicted continuation; 0: none" },
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
  seed: { default: 0, min: 0, max: 0xffffffff, integer: true, doc: "rule 5's draws" },
} as const;

export const HEAD_CHOICE_RULES = ['recency', 'h2o', 'h2o-decay', 'probe', 'expected attention', 'random'] as const;
const RULES = HEAD_CHOICE_RULES.length;
const RANDOM_RULE = RULES - 1;

/** One head's learning: each rule's charged attention and its ghosts (keys of the entries it named). */
interface HeadLearner {
  loss: Float64Array; // (rules)
  ghosts: Float64Array[]; // per rule (ghosts, dim) key copies
  filled: Int32Array; // per rule: ghosts held
  next: Int32Array; // per rule: the ring's next index
  named: number; // the last position a decision was recorded for
  followed: Float64Array; // (rules) decisions that followed each rule
}

export function createHeadChoice(params: Partial<Record<keyof typeof HEAD_CHOICE_PARAMS, number>> = {}): EvictionPolicy {
  const c = { ...defaultsOf(HEAD_CHOICE_PARAMS), ...params };
  const queries = new QueryStats(c.keep);
  const learners = new Map<string, HeadLearner>();
  const rotated = new Map<number, Map<number, Float64Array>>(); // layer -> position -> (heads, dim) query after RoPE
  const scratch = Array.from({ length: RULES }, () => new Float64Array(0));

  function learner(layer: number, kvHead: number, dim: number): HeadLearner {
    const key = `${layer},${kvHead}`;
    let h = learners.get(key);
    if (!h) {
      h = {
        loss: new Float64Array(RULES),
        ghosts: Array.from({ length: RULES }, () => new Float64Array(c.ghosts * dim)),
        filled: new Int32Array(RULES),
        next: new Int32Array(RULES),
        named: -1,
        followed: new Float64Array(RULES),
      };
      learners.set(key, h);
    }
    return h;
  }

  /** The rule with the least loss; random when random's is as low as the best other's. */
  function choice(h: HeadLearner): number {
    let best = 0;
    for (let r = 1; r < RANDOM_RULE; r++) if (h.loss[r] < h.loss[best]) best = r;
    return h.loss[RANDOM_RULE] <= h.loss[best] ? RANDOM_RULE : best;
  }

  /** Every rule's keep scores of the head's entries. */
  function ruleScores(state: PolicyState, head: HeadSlots, position: number): Float64Array[] {
    for (let r = 0; r < RULES; r++) if (scratch[r].length < head.length) scratch[r] = new Float64Array(Math.max(head.length, 2 * scratch[r].length));
    const [recency, h2o, decayed, probe, expected, random] = scratch;
    let last = 1;
    for (let i = 0; i < head.length; i++) last = Math.max(last, head.positions[i]);
    for (let i = 0; i < head.length; i++) {
      const slot = head.slots[i];
      recency[i] = head.positions[i];
      h2o[i] = state.score[slot];
      decayed[i] = state.stamp[slot];
      probe[i] = state.probe[slot] + (1e-9 * head.positions[i]) / last; // the probe, then recency
      random[i] = randomScore(c.seed, position, slot);
    }
    expectedAttention(queries, state, head, position, c.horizon, expected);
    return scratch;
  }

  return {
    id: 'head-choice',
    paper: 'each KV head chooses its rule online (Hedge over ghost losses); the probe after arXiv 2601.16986, expected attention after arXiv 2510.00636',
    summary: 'Each KV head follows the rule whose would-be victims lose the least attention, learned while decoding.',
    granularity: 'head',
    sinks: 0,
    recent: c.recent,
    historyWindow: 0,
    probe: { answer: 3, look: c.look, decay: 0.98 },
    gpu: { cpuOnly: 'the per-head rule choice is a CPU-reference research policy' },
    observeQueries(state, layer, q, position) {
      queries.observe(layer, q);
      // The query after RoPE, for the ghosts' logits when this position's attention is observed.
      const rope = state.rope!;
      const dim = state.keys!.dim;
      const out = ropeRef(Float64Array.from(q), 1, q.length / dim, dim, position, rope.cos, rope.sin);
      let byPosition = rotated.get(layer);
      if (!byPosition) rotated.set(layer, (byPosition = new Map()));
      byPosition.set(position, out);
    },
    observe(state, head, attention, position) {
      for (let i = 0; i < head.length; i++) {
        const slot = head.slots[i];
        state.score[slot] += attention[i];
        state.stamp[slot] = c.decay * state.stamp[slot] + attention[i];
      }
      const q = rotated.get(head.layer)?.get(position);
      const keys = state.keys;
      const rope = state.rope;
      if (!q || !keys || !rope) return;
      const d = keys.dim;
      const group = rope.heads / rope.kvHeads;
      const h = learner(head.layer, head.kvHead, d);
      const scale = 1 / Math.sqrt(d);
      for (let r = 0; r < RULES; r++) h.loss[r] *= c.forget;
      for (let qh = head.kvHead * group; qh < (head.kvHead + 1) * group; qh++) {
        const qv = q.subarray(qh * d, (qh + 1) * d);
        // log Z over the live entries (those at or before this query), by its largest term.
        let max = -Infinity;
        const logits = new Float64Array(head.length);
        for (let i = 0; i < head.length; i++) {
          if (head.positions[i] > position) continue;
          let dot = 0;
          for (let k = 0; k < d; k++) dot += qv[k] * keys.data[head.slots[i] * d + k];
          logits[i] = dot * scale;
          max = Math.max(max, logits[i]);
        }
        let z = 0;
        for (let i = 0; i < head.length; i++) if (head.positions[i] <= position) z += Math.exp(logits[i] - max);
        const logZ = max + Math.log(z);
        for (let r = 0; r < RULES; r++) {
          for (let gi = 0; gi < h.filled[r]; gi++) {
            const ghost = h.ghosts[r].subarray(gi * d, (gi + 1) * d);
            let dot = 0;
            for (let k = 0; k < d; k++) dot += qv[k] * ghost[k];
            h.loss[r] += Math.exp(dot * scale - logZ) / group;
          }
        }
      }
      // This position's attention is folded: its query is no longer needed.
      if (head.kvHead === rope.kvHeads - 1) rotated.get(head.layer)!.delete(position);
    },
    score(state, head, position, out, protectBelow = 0) {
      const keys = state.keys;
      assert(keys !== undefined, 'head-choice needs the key pool (the CPU reference)');
      const d = keys.dim;
      const h = learner(head.layer, head.kvHead, d);
      const scores = ruleScores(state, head, position);
      const follow = choice(h);
      if (c.weight > 0) {
        // The chosen rule as ranks in 0..1 (ties keep the lower index first), plus the weighted probe.
        const order = Array.from({ length: head.length }, (_, i) => i).sort((a, b) => scores[follow][a] - scores[follow][b] || a - b);
        let probeMax = 0;
        for (let i = 0; i < head.length; i++) probeMax = Math.max(probeMax, state.probe[head.slots[i]]);
        order.forEach((i, rank) => (out[i] = rank / Math.max(1, head.length - 1)));
        for (let i = 0; i < head.length; i++) out[i] += (c.weight * state.probe[head.slots[i]]) / (probeMax + 1e-9);
      } else {
        for (let i = 0; i < head.length; i++) out[i] = scores[follow][i];
      }
      if (h.named === position) return; // a later round of the same step: named already
      h.named = position;
      h.followed[follow]++;
      const candidate = new Uint8Array(head.length);
      if (markCandidates(head, 0, c.recent, protectBelow, candidate) === 0) return;
      for (let r = 0; r < RULES; r++) {
        const victim = lowestCandidate(head, scores[r], candidate);
        const slot = head.slots[victim];
        for (let k = 0; k < d; k++) h.ghosts[r][h.next[r] * d + k] = keys.data[slot * d + k];
        h.next[r] = (h.next[r] + 1) % c.ghosts;
        h.filled[r] = Math.min(c.ghosts, h.filled[r] + 1);
      }
    },
    report() {
      // Per layer and rule ("layer 0/recency"): the decisions its KV heads made following it.
      const total: Record<string, number> = {};
      const layers = [...new Set([...learners.keys()].map((k) => Number(k.split(',')[0])))].sort((a, b) => a - b);
      for (const l of layers) for (const name of HEAD_CHOICE_RULES) total[`layer ${l}/${name}`] = 0;
      for (const [key, h] of learners) {
        const l = key.split(',')[0];
        for (let r = 0; r < RULES; r++) total[`layer ${l}/${HEAD_CHOICE_RULES[r]}`] += h.followed[r];
      }
      return total;
    },
  };
}

export const HEAD_CHOICE = definePolicy({ id: 'head-choice', params: HEAD_CHOICE_PARAMS, research: true, create: (p) => createHeadChoice(p) });
