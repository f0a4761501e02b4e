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
import type { EvictionPolicy } from './policy.ts';

export function createStreaming(params: { sinks?: number } = {}): EvictionPolicy {
  return {
    id: 'streaming',
    paper: 'arXiv 2309.17453, Efficient Streaming Language Models with Attention Sinks',
    summary: 'Keeps 4 attention sinks and a sliding window of the newest tokens.',
    granularity: 'head',
    sinks: params.sinks ?? 4,
    recent: 0,
    historyWindow: 0,
    score(_state, head, _position, out) {
      for (let i = 0; i < head.length; i++) out[i] = head.positions[i]; // oldest goes first
    },
  };
}
