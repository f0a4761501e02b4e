/**
 * answer-probe: the answer-first probe (policies/probe.ts) on a simple base rule, a research
 * policy (the CPU reference and the eval) to reproduce the independent simulation
 * (../shared/sim/probe_sim.py) before the probe goes into `crystal`. An entry's keep priority is
 *   base / max|base| + WEIGHT * probe / max(probe)        (max over the head's entries)
 * and the lowest priority goes: with a large weight, whatever the probe marks is kept first and
 * the base rule orders the rest.
 * Base rules (`base`): 0 recency (the position: the oldest goes), 1 h2o (accumulated attention,
 * the group's mean; the normalisation makes mean and sum alike), 2 expected future attention
 * (expected-attention.ts: running query statistics, RoPE-aware, value-norm weighted). Weight 0
 * runs no probe rows: the base rule alone.
 * Choices where the simulation is silent: ties to the lowest logical slot (select.ts); the 16
 * newest entries and, in think mode, the prompt are kept (as the simulation); no sinks.
 */
import { expectedAttention, QueryStats } from './expected-attention.ts';
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export const ANSWER_PROBE_PARAMS = {
  base: { default: 0, min: 0, max: 2, integer: true, doc: 'the base rule: 0 recency, 1 h2o (accumulated attention), 2 expected future attention' },
  weight: { default: 10, min: 0, max: 1000, doc: "the probe score's weight against the base rule's (both normalised by their head's maximum); 0: no probe rows at all" },
  horizon: { default: 16, min: 1, max: 1024, integer: true, doc: 'expected attention: future positions summed over' },
  keep: { default: 0.9, min: 0, max: 1, doc: "expected attention: the queries' moving statistics keep this much of the past per query" },
  decay: { default: 0.98, min: 0, max: 1, doc: 'how much of a probe score carries over to the next probe step' },
  answer: { default: 3, min: 0, max: 16, integer: true, doc: "answer tokens after the forced rows (end-of-think and the template's text after it)" },
  look: { default: 0, min: 0, max: 32, integer: true, doc: "a lookahead probe: rows of the think's own predicted continuation (0: none)" },
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
} as const;

const CPU_ONLY = 'answer-probe with expected attention (base 2) runs on the CPU reference only (its query statistics are not ported)';

export function createAnswerProbe(params: Partial<{ base: number; weight: number; horizon: number; keep: number; decay: number; answer: number; look: number; recent: number }> = {}): EvictionPolicy {
  const c = { ...defaultsOf(ANSWER_PROBE_PARAMS), ...params };
  const queries = c.base === 2 ? new QueryStats(c.keep) : null;
  return {
    id: 'answer-probe',
    paper: 'arXiv 2601.16986 (Crystal-KV), its answer-first principle measured online by probe rows',
    summary: 'Keeps the entries that probe rows of the answer (end-of-think, then predicted answer tokens) attend to; the base rule orders the rest.',
    granularity: 'head',
    sinks: 0,
    recent: c.recent,
    historyWindow: 0,
    probe: c.weight > 0 ? { answer: c.answer, look: c.look, decay: c.decay } : undefined,
    // The GPU: the probe rows in the step's tile, probe-fold, then select-victim's probe rule over
    // the position (base 0) or h2o's accumulated attention (base 1); weight 0 is the base alone.
    gpu:
      c.base === 2
        ? { cpuOnly: CPU_ONLY }
        : {
            update: c.base === 1 ? { rule: 'h2o', constants: { DECAY: 1 } } : undefined,
            victim: { rule: 'probe', constants: { PROBE_WEIGHT: c.weight, PROBE_BASE: c.base } },
          },
    observe(state, head, attention) {
      if (c.base === 1) for (let i = 0; i < head.length; i++) state.score[head.slots[i]] += attention[i];
    },
    observeQueries: queries ? (_state, layer, q) => queries.observe(layer, q) : undefined,
    score(state, head, position, out) {
      if (queries) expectedAttention(queries, state, head, position, c.horizon, out);
      let baseMax = 0;
      let probeMax = 0;
      for (let i = 0; i < head.length; i++) {
        const slot = head.slots[i];
        if (!queries) out[i] = c.base === 1 ? state.score[slot] : head.positions[i];
        baseMax = Math.max(baseMax, Math.abs(out[i]));
        probeMax = Math.max(probeMax, state.probe[slot]);
      }
      for (let i = 0; i < head.length; i++) {
        out[i] = out[i] / (baseMax + 1e-9) + (c.weight * state.probe[head.slots[i]]) / (probeMax + 1e-9);
      }
    },
  };
}

export const ANSWER_PROBE = definePolicy({ id: 'answer-probe', params: ANSWER_PROBE_PARAMS, research: true, create: (p) => createAnswerProbe(p) });
