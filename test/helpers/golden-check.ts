/**
 * Runs every golden.json case through a backend and checks prompt ids, generated ids (exactly),
 * the argmax at every position, and the logits at the recorded positions (within `atol`).
 * Shared by the CPU reference test (Node) and the GPU engine test (browser).
 */
import { expect } from 'vitest';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import { generate, promptIds } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { expectClose } from './close.ts';
import type { GoldenCase } from './golden.ts';

export async function checkGoldenCase(backend: ForwardBackend, c: GoldenCase, atol: number): Promise<number> {
  expect(promptIds(backend, c.user)).toEqual(c.prompt_ids);
  const logitsAt = new Map<number, Float64Array>();
  const argmax: number[] = [];
  const result = await generate(
    backend,
    { prompt: c.user, maxNewTokens: 1000, sampling: GREEDY },
    {
      onLogits: (position, row) => {
        let best = 0;
        for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        argmax[position] = best;
        logitsAt.set(position, Float64Array.from(row));
      },
    },
  );
  expect(result.generatedIds).toEqual(c.generated_ids);
  expect(result.text).toBe(c.generated_text);
  expect(result.answer).toBe(c.answer);
  expect(argmax).toEqual(c.argmax_every_position);
  let maxDiff = 0;
  const check = (position: number, want: number[]) => {
    const got = logitsAt.get(position)!;
    expectClose(`logits at position ${position}`, got, want, { atol });
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
  };
  for (const [pos, want] of Object.entries(c.logits_at_positions)) check(Number(pos), want);
  // The last computed position is the one whose argmax is the final (eos) token.
  check(c.prompt_ids.length + c.generated_ids.length - 2, c.last_position_logits);
  return maxDiff;
}
