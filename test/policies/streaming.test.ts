import { expect, test } from 'vitest';
import { createStreaming } from '../../src/policies/streaming.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('streaming evicts the oldest entry that is not one of the 4 sinks', () => {
  const policy = createStreaming();
  // Positions 0-3 are sinks; 7 was evicted earlier, so the head is not contiguous.
  const head = makeHead([9, 0, 1, 2, 3, 5, 6, 8], [3, 0, 1, 2, 4, 5, 6, 7]);
  expect(victimPosition(policy, makeState(policy), head, 10)).toBe(5);
  // In think mode the prompt (positions < 7 here) is kept: the oldest generated entry goes.
  expect(victimPosition(policy, makeState(policy), head, 10, 7)).toBe(8);
});
