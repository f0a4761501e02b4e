import { describe, expect, test } from 'vitest';
import { budgetsFull, proportionalSplit, reallocateBudgets } from '../../src/policies/reallocate.ts';

describe('adaptive budgets (crystal)', () => {
  test('budgets move only once every head holds its limit', () => {
    expect(budgetsFull([96, 96, 96], [96, 96, 96])).toBe(true);
    expect(budgetsFull([96, 95, 96], [96, 96, 96])).toBe(false); // one head still filling
    expect(budgetsFull([40, 120], [40, 120])).toBe(true); // moved budgets, each reached
  });

  test('proportional split keeps the total and the floor', () => {
    expect(Array.from(proportionalSplit(10, [1, 1, 2], 1))).toEqual([3, 3, 4]);
    expect(Array.from(proportionalSplit(10, [0, 0, 0], 2))).toEqual([4, 3, 3]);
    expect(() => proportionalSplit(5, [1, 1, 1], 2)).toThrow(/floor/);
  });

  test('the total never exceeds the global budget, the floor holds, busier heads gain capacity', () => {
    const layers = 3;
    const kvHeads = 4;
    let budgets: Int32Array = new Int32Array(layers * kvHeads).fill(64);
    const total = 64 * layers * kvHeads;
    const floor = Math.ceil(0.2 * 64);
    // Layer 0 head 1 and layer 2 head 3 carry most of the load.
    const loads = Float64Array.from({ length: 12 }, (_, i) => (i === 1 ? 90 : i === 11 ? 60 : 5));
    for (let round = 0; round < 5; round++) {
      const next = reallocateBudgets(loads, budgets, layers, kvHeads, floor);
      expect(next.reduce((s, b) => s + b, 0)).toBe(total);
      for (const b of next) expect(b).toBeGreaterThanOrEqual(floor);
      budgets = next;
    }
    expect(budgets[1]).toBeGreaterThan(64);
    expect(budgets[11]).toBeGreaterThan(64);
    expect(budgets[1]).toBeGreaterThan(budgets[0]);
    expect(budgets[5]).toBeLessThan(64);
  });
});
