import { describe } from 'vitest';
import { agreementSetup, testEvictionAgreement } from '../helpers/eviction-agreement.ts';

// The GPU and the CPU engines evict alike at `think` 64: the prompt stays, the think entries fill
// the budget and then evict for 64 steps, and crystal re-divides its per-head budgets (checked).
describe('GPU and CPU engines make the same eviction decisions, think 64', async () => {
  testEvictionAgreement(await agreementSetup(), { budget: 64, mode: 'think' });
});
