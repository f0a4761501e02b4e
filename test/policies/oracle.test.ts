import { expect, test } from 'vitest';
import { beladyScore, createOracle, Hindsight, ORACLE, ORACLE_PARAMS, recordingPolicy } from '../../src/policies/oracle.ts';
import { defaultsOf } from '../../src/policies/params.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

// A hand-made full-cache run of one (layer, head), 6 queries; every value is dyadic, so f32 holds
// it and the suffix sums exactly. Row q is attention(q, p) for p = 0..q.
const RUN = [
  [1],
  [0.5, 0.5],
  [0.5, 0.25, 0.25],
  [0.25, 0.125, 0.5, 0.125],
  [0.25, 0.1875, 0.25, 0.125, 0.1875],
  [0.25, 0.15625, 0.0625, 0.25, 0.125, 0.15625],
];
// F[q][p] = sum over q' >= q of RUN[q'][p].
const F = [
  [2.75],
  [1.75, 1.21875],
  [1.25, 0.71875, 1.0625],
  [0.75, 0.46875, 0.8125, 0.5],
  [0.5, 0.34375, 0.3125, 0.375, 0.3125],
  [0.25, 0.15625, 0.0625, 0.25, 0.125, 0.15625],
];
// Used: RUN[q][p] >= 1 / (q + 1). q0: p0; q1: p0 p1; q2 (1/3): p0; q3 (1/4): p0 p2; q4 (1/5): p0 p2;
// q5 (1/6): p0 p3 (0.15625 < 1/6 is not a use).
const I = Infinity;
const N = [
  [0],
  [1, 1],
  [2, I, 3],
  [3, I, 3, 5],
  [4, I, 4, 5, I],
  [5, I, I, 5, I, I],
];

function recorded(): Hindsight {
  const h = new Hindsight(1, 1);
  RUN.forEach((row, q) => h.record(0, 0, q, row.map((_, p) => p), row, row.length));
  return h.finish();
}

test('the hindsight holds the future attention mass F and the next use N exactly', () => {
  const h = recorded();
  expect(h.length).toBe(6);
  for (let q = 0; q < 6; q++) {
    for (let p = 0; p <= q; p++) {
      expect(h.mass(0, 0, q, p)).toBe(F[q][p]);
      expect(h.nextUse(0, 0, q, p)).toBe(N[q][p]);
    }
  }
  // An entry newer than the query is read from its own row (the queries in between cannot see it).
  expect(h.mass(0, 0, 2, 4)).toBe(F[4][4]);
  expect(h.nextUse(0, 0, 1, 3)).toBe(N[3][3]);
  expect(h.bytes).toBe(8 * 21);
});

test('queries past the recorded run have no attention: mass 0, never used', () => {
  const h = recorded();
  for (const q of [6, 7, 100]) {
    for (let p = 0; p < 6; p++) {
      expect(h.mass(0, 0, q, p)).toBe(0);
      expect(h.nextUse(0, 0, q, p)).toBe(Infinity);
    }
  }
  const mass = createOracle({ variant: 0 }, h);
  const belady = createOracle({ variant: 1 }, h);
  const head = makeHead([3, 0, 5, 1, 2, 4]);
  const out = new Float64Array(6);
  mass.score(makeState(mass), head, 6, out);
  expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  belady.score(makeState(belady), head, 6, out);
  expect(Array.from(out)).toEqual([-6, -6, -6, -6, -6, -6]); // never = the run's length
  // Everything ties: the lowest logical slot goes.
  expect(victimPosition(mass, makeState(mass), head, 6)).toBe(3);
  expect(victimPosition(belady, makeState(belady), head, 6)).toBe(3);
});

test('variant 0 evicts the lowest future attention mass, counting the query about to be written', () => {
  const policy = createOracle({ variant: 0 }, recorded());
  expect(policy.id).toBe('oracle');
  expect(policy.granularity).toBe('head');
  expect([policy.sinks, policy.recent, policy.historyWindow]).toEqual([0, 0, 0]);
  expect('cpuOnly' in policy.gpu).toBe(true);
  const state = makeState(policy);
  // Step 4 (entries 0..3): F[4] = .5 .34375 .3125 .375 -> p2.
  const head = makeHead([0, 1, 2, 3]);
  const out = new Float64Array(4);
  policy.score(state, head, 4, out);
  expect(Array.from(out)).toEqual([0.5, 0.34375, 0.3125, 0.375]);
  expect(victimPosition(policy, state, head, 4)).toBe(2);
  // Step 5 (entries 0..4): F[5] = .25 .15625 .0625 .25 .125 -> p2, whatever the slot order.
  expect(victimPosition(policy, state, makeHead([4, 3, 2, 1, 0], [9, 8, 7, 6, 5]), 5)).toBe(2);
  // Step 3 without p1: F[3] = .75 . .8125 -> p0.
  expect(victimPosition(policy, state, makeHead([0, 2]), 3)).toBe(0);
  // A real tie (p0 and p3 both .25 at step 5) goes to the lowest logical slot.
  expect(victimPosition(policy, state, makeHead([3, 0]), 5)).toBe(3);
  expect(victimPosition(policy, state, makeHead([0, 3]), 5)).toBe(0);
});

test('variant 1 evicts the farthest next use, never used first, equal next uses by the lower mass', () => {
  const policy = createOracle({ variant: 1 }, recorded());
  const state = makeState(policy);
  // Step 4: N[4] = 4 never 4 5; p1 is never used again (though its mass beats p2's) -> p1.
  const head = makeHead([0, 1, 2, 3]);
  const out = new Float64Array(4);
  policy.score(state, head, 4, out);
  expect(Array.from(out)).toEqual([beladyScore(4, 0.5), beladyScore(6, 0.34375), beladyScore(4, 0.3125), beladyScore(5, 0.375)]);
  expect(out[1]).toBeLessThan(out[3]);
  expect(out[3]).toBeLessThan(out[2]);
  expect(out[2]).toBeLessThan(out[0]);
  expect(victimPosition(policy, state, head, 4)).toBe(1);
  // Without p1: p3 is next used at 5, the others at 4 -> p3.
  expect(victimPosition(policy, state, makeHead([0, 2, 3]), 4)).toBe(3);
  // Equal next use (p0, p2 both at 4): the lower future mass (p2, .3125 < .5) goes, slot order aside.
  expect(victimPosition(policy, state, makeHead([2, 0]), 4)).toBe(2);
  expect(victimPosition(policy, state, makeHead([0, 2]), 4)).toBe(2);
  // Step 5: p1, p2, p4 never used; the lowest mass of those is p2 (.0625), not the lowest slot.
  expect(victimPosition(policy, state, makeHead([0, 1, 2, 3, 4]), 5)).toBe(2);
  // A real tie (p0, p3: next use 5, mass .25) goes to the lowest logical slot.
  expect(victimPosition(policy, state, makeHead([3, 0]), 5)).toBe(3);
  expect(victimPosition(policy, state, makeHead([0, 3]), 5)).toBe(0);
});

test('the Belady score is exact: next use first, then mass, ties only when both are equal', () => {
  expect(beladyScore(7, 0)).toBe(-7);
  const big = 2 ** 22 - 1;
  // A farther next use is lower whatever the masses.
  expect(beladyScore(big, 3.4e38)).toBeLessThan(beladyScore(big - 1, 0));
  // Neighbouring f32 masses stay apart at the largest next use.
  const m = Math.fround(0.3);
  const up = new Float32Array([m]);
  new Uint32Array(up.buffer)[0] += 1;
  expect(beladyScore(big, m)).toBeLessThan(beladyScore(big, up[0]));
  expect(beladyScore(big, Math.fround(1e-30))).toBeGreaterThan(beladyScore(big, 0));
  expect(beladyScore(big, 0.25)).toBe(beladyScore(big, 0.25));
  expect(beladyScore(3, 0.25) - -3).toBeLessThan(1);
});

test('the recording policy fills the hindsight through observe and never evicts', () => {
  const h = new Hindsight(2, 2);
  const rec = recordingPolicy(h);
  expect(rec.id).toBe('oracle-record');
  expect([rec.sinks, rec.recent, rec.historyWindow]).toEqual([0, 0, 0]);
  expect('cpuOnly' in rec.gpu).toBe(true);
  const state = makeState(rec);
  // Head (1, 1) gets RUN with its entries in a shuffled slot order; the other heads a uniform run.
  const order = [3, 0, 2, 1];
  const prompt = { ...makeHead(order, [5, 6, 7, 8]), layer: 1, kvHead: 1 };
  for (let q = 0; q < 4; q++) {
    // Prefill: the whole prompt's entries arrive, the ones after the query masked to 0.
    const attention = Float64Array.from(order, (p) => (p <= q ? RUN[q][p] : 0));
    rec.observe!(state, prompt, attention, q);
  }
  for (const q of [4, 5]) {
    const positions = [5, 4, 3, 2, 1, 0].filter((p) => p <= q);
    const head = { ...makeHead(positions), layer: 1, kvHead: 1 };
    rec.observe!(state, head, Float64Array.from(positions, (p) => RUN[q][p]), q);
  }
  for (const [layer, kvHead] of [[0, 0], [0, 1], [1, 0]]) {
    for (let q = 0; q < 6; q++) {
      const head = { ...makeHead(Array.from({ length: q + 1 }, (_, p) => p)), layer, kvHead };
      rec.observe!(state, head, new Float64Array(q + 1).fill(1 / (q + 1)), q);
    }
  }
  const out = new Float64Array(4).fill(7);
  rec.score(state, prompt, 4, out);
  expect(Array.from(out)).toEqual([0, 0, 0, 0]);
  h.finish();
  expect(h.length).toBe(6);
  for (let q = 0; q < 6; q++) {
    for (let p = 0; p <= q; p++) {
      expect(h.mass(1, 1, q, p)).toBe(F[q][p]);
      expect(h.nextUse(1, 1, q, p)).toBe(N[q][p]);
      // Uniform attention is a use (>= 1 / keys): every entry is used by every query.
      expect(h.nextUse(0, 1, q, p)).toBe(q);
    }
  }
  expect(h.mass(0, 0, 0, 0)).toBeCloseTo(1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6, 6);
  // Recording after finish is refused.
  expect(() => rec.observe!(state, prompt, new Float64Array(4), 6)).toThrow(/frozen/);
});

test('the hindsight refuses what a full-cache run cannot produce', () => {
  const h = new Hindsight(1, 1);
  h.record(0, 0, 0, [0], [1], 1);
  expect(() => h.record(0, 0, 0, [0], [1], 1)).toThrow(/twice/);
  expect(() => h.record(0, 0, 2, [0, 2], [0.5, 0.5], 2)).toThrow(/full-cache/); // an entry was evicted
  expect(() => h.record(1, 0, 1, [0, 1], [0.5, 0.5], 2)).toThrow(/outside/);
  expect(() => h.mass(0, 0, 0, 0)).toThrow(/finish/);
  expect(() => createOracle({ variant: 0 }, h)).toThrow(/not finished/);
  h.record(0, 0, 2, [0, 1, 2], [0.5, 0.25, 0.25], 3);
  expect(() => h.finish()).toThrow(/lacks query 1/);
  expect(() => new Hindsight(1, 2).finish()).toThrow(/nothing was recorded/);
  const uneven = new Hindsight(1, 2);
  uneven.record(0, 0, 0, [0], [1], 1);
  expect(() => uneven.finish()).toThrow(/recorded 0 queries/);
});

test('the definition is a research instrument whose create explains it needs hindsight', () => {
  expect(ORACLE.id).toBe('oracle');
  expect(ORACLE.research).toBe(true);
  expect(ORACLE.params).toBe(ORACLE_PARAMS);
  expect(() => ORACLE.create(defaultsOf(ORACLE_PARAMS))).toThrow(/needs hindsight.*createOracle/);
  expect(() => createOracle({ variant: 2 }, recorded())).toThrow(/variant/);
});

test('attention(q, p) gives back what query q itself paid p', () => {
  const h = recorded();
  RUN.forEach((row, q) => row.forEach((a, p) => expect(h.attention(0, 0, q, p)).toBe(a)));
  expect(h.attention(0, 0, 2, 4)).toBe(0); // a key after the query
  expect(h.attention(0, 0, 6, 0)).toBe(0); // past the run
});

test('limited foresight: horizon H counts only the next H queries, answer only the answer\'s', () => {
  const h = recorded();
  const head = makeHead([0, 1, 2, 3]);
  const score = (params: { horizon?: number; answer?: number }, position: number) => {
    const out = new Float64Array(4);
    createOracle(params, h).score(makeState(createOracle({}, h)), head, position, out);
    return Array.from(out);
  };
  // Horizon 1 at step 3 is query 3 alone: RUN[3].
  expect(score({ horizon: 1 }, 3)).toEqual(RUN[3]);
  // Horizon 2 at step 3: RUN[3] + RUN[4] over p0..p3 = F[3] - F[5].
  expect(score({ horizon: 2 }, 3)).toEqual([0.5, 0.3125, 0.75, 0.25]);
  // A horizon past the run is the whole future (F[3]).
  expect(score({ horizon: 64 }, 3)).toEqual([0.75, 0.46875, 0.8125, 0.5]);
  // The answer starts at query 4: from step 3 only queries 4 and 5 count (F[4]); none within horizon 1.
  h.answerFrom = 4;
  expect(score({ answer: 1 }, 3)).toEqual([0.5, 0.34375, 0.3125, 0.375]);
  expect(score({ answer: 1, horizon: 1 }, 3)).toEqual([0, 0, 0, 0]);
  expect(score({ answer: 1, horizon: 2 }, 3)).toEqual(RUN[4].slice(0, 4));
  // A run that never closed its think has no answer: nothing counts.
  h.answerFrom = Infinity;
  expect(score({ answer: 1 }, 3)).toEqual([0, 0, 0, 0]);
  expect(() => createOracle({ variant: 1, horizon: 16 }, h)).toThrow(/variant 0/);
});
