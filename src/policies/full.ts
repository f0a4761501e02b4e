/** full: the baseline that never evicts (the engine gives every head the whole context). */
import { definePolicy, type EvictionPolicy } from './policy.ts';

export function createFull(): EvictionPolicy {
  return {
    id: 'full',
    paper: 'no eviction',
    summary: 'Keeps every KV entry: the accuracy ceiling and the memory worst case.',
    granularity: 'head',
    sinks: 0,
    recent: 0,
    historyWindow: 0,
    gpu: {}, // nothing to choose
    score(_state, head, _position, out) {
      out.fill(0, 0, head.length);
    },
  };
}

export const FULL = definePolicy({ id: 'full', params: {}, create: () => createFull() });
