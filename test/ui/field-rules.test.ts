import { describe, expect, test } from 'vitest';
import { InvalidRequestError } from '../../src/errors.ts';
import { FIELD_RULES, parseField, type RuledField } from '../../src/ui/field-rules.ts';

// The page marks a bad field with `allowed`; the engine refuses the same value with its own words.
// Both must say the same thing, so a user reads one rule in both places.
const CASES: Record<RuledField, { good: number; bad: number }> = {
  budget: { good: 64, bad: 2.5 },
  compareBudget: { good: 1, bad: -5 },
  temperature: { good: 0, bad: -1 },
  topP: { good: 1, bad: 5 },
  seed: { good: -3, bad: 0.5 },
  maxTokens: { good: 1, bad: 0 },
};

describe('page field rules', () => {
  for (const [key, { good, bad }] of Object.entries(CASES) as [RuledField, { good: number; bad: number }][]) {
    test(`${key}: accepts ${good}; refuses ${bad} in the words the page shows`, () => {
      const rule = FIELD_RULES[key];
      expect(() => rule.check(good)).not.toThrow();
      expect(parseField(key, String(good))).toBe(good);
      let error: unknown;
      try {
        rule.check(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as Error).message).toContain(`must be ${rule.allowed};`);
      expect(parseField(key, String(bad))).toBeNull();
      expect(parseField(key, '')).toBeNull();
      expect(parseField(key, 'abc')).toBeNull();
    });
  }
});
