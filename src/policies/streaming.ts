/**
 * streaming: StreamingLLM, arXiv 2309.17453 ("Efficient Streaming Language Models with
 * Attention Sinks"). Keep the first `sinks` tokens and the most recent ones: the victim is the
 * oldest entry that is not a sink.
 *
 * Choices where the paper is silent: per (layer, KV head) like every per-head policy here (all
 * heads evict the same position, as the rule ignores attention); no state; in `think` mode the
 * whole prompt is kept, so the sinks are prompt tokens and the budget holds the newest
 * generated tokens; the answer stage is treated like the think stage.
 */
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export const STREAMING_PARAMS = {
  sinks: { default: 4, min: 0, max: 4096, integer: true, doc: 'first positions always kept' },
} as const;

export function createStreaming(params: { sinks?: number } = {}): EvictionPolicy {
  const c = { ...defaultsOf(STREAMING_PARAMS), ...params };
  return {
    id: 'streaming',
    paper: 'arXiv 2309.17453, Efficient Streaming Language Models with Attention Sinks',
    summary: 'Keeps 4 attention sinks and a sliding window of the newest tokens.',
    granularity: 'head',
    sinks: c.sinks,
    recent: 0,
    historyWindow: 0,
    gpu: { victim: { rule: 'position' } },
    score(_state, head, _position, out) {
      for (let i = 0; i < head.length; i++) out[i] = head.positions[i]; // oldest goes first
    },
  };
}

export const STREAMING = definePolicy({ id: 'streaming', params: STREAMING_PARAMS, create: (p) => createStreaming(p) });
