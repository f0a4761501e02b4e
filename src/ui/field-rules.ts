/**
 * What each typed number field of the page may hold. The engine's own checks (validate-request.ts)
 * judge, so the page refuses exactly what the engine would and says so in the engine's words; the
 * engine still checks the request it is sent, being a library as well.
 */
import { ALLOWED, checkField } from '../engine/interface.ts';

export interface FieldRule {
  /** What the field may hold, worded as the engine's InvalidRequestError words it. */
  allowed: string;
  /** Throws (InvalidRequestError) when the engine would refuse the value. */
  check(value: number): void;
}

const BUDGET: FieldRule = { allowed: ALLOWED.budget, check: (v) => checkField.budget('cache.budget', v) };

export const FIELD_RULES = {
  budget: BUDGET,
  compareBudget: BUDGET,
  temperature: { allowed: ALLOWED.temperature, check: (v) => checkField.temperature('sampling.temperature', v) },
  topP: { allowed: ALLOWED.topP, check: (v) => checkField.topP('sampling.topP', v) },
  seed: { allowed: ALLOWED.seed, check: (v) => checkField.seed('sampling.seed', v) },
  maxTokens: { allowed: ALLOWED.positiveInteger, check: (v) => checkField.positiveInteger('maxNewTokens', v) },
} satisfies Record<string, FieldRule>;

export type RuledField = keyof typeof FIELD_RULES;

/** The number a field's text stands for, or null when the engine would refuse it (blank and non-numbers included). */
export function parseField(key: RuledField, raw: string): number | null {
  if (raw.trim() === '') return null;
  const value = Number(raw);
  try {
    FIELD_RULES[key].check(value);
    return value;
  } catch {
    return null;
  }
}
