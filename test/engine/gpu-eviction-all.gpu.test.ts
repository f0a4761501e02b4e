import { describe, expect, test } from 'vitest';
import { PolicyBackendError, PolicyParamError } from '../../src/errors.ts';
import { gpuPolicyIds, USER_POLICY_IDS } from '../../src/policies/registry.ts';
import { agreementSetup, runRecorded, testEvictionAgreement } from '../helpers/eviction-agreement.ts';

// The GPU and the CPU engines evict alike at `all` 96 (the prompt cut, then every decode step);
// `think` 64 is gpu-eviction-think.gpu.test.ts.
describe('GPU and CPU engines make the same eviction decisions, all 96', async () => {
  const setup = await agreementSetup();
  const { prompts, onGpu, reference } = setup;
  testEvictionAgreement(setup, { budget: 96, mode: 'all' });

  test('crystal-lite with a starting CRF (init 1): the GPU honours it, the same decisions as the CPU', async () => {
    const cache = { policy: 'crystal-lite', budget: 64, mode: 'all' as const, params: { init: 1 } };
    for (const prompt of prompts.slice(0, 2)) {
      const want = await runRecorded(reference, prompt, cache);
      const plain = await runRecorded(reference, prompt, { ...cache, params: {} });
      expect(want.decisions).not.toEqual(plain.decisions); // init changes what goes
      expect(await runRecorded(onGpu, prompt, cache)).toEqual(want);
    }
  });

  test('an option the GPU rule cannot honour is refused, not ignored; the sequence is kept', async () => {
    await runRecorded(onGpu, prompts[0], { policy: 'h2o', budget: 96, mode: 'all' });
    const before = onGpu.evictions().length;
    expect(() => onGpu.reset({ policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } })).toThrow(PolicyBackendError);
    expect(() => onGpu.reset({ policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } })).toThrow(/gqaMax/);
    expect(() => onGpu.reset({ policy: 'h2o', budget: 96, params: { recnet: 4 } })).toThrow(PolicyParamError);
    expect(onGpu.evictions().length).toBe(before);
    // The CPU reference runs it.
    const r = await runRecorded(reference, prompts[0], { policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } });
    expect(r.decisions.length).toBeGreaterThan(0);
  });

  test('every user policy evicts on the GPU', () => {
    expect(USER_POLICY_IDS.filter((p) => p !== 'full' && !gpuPolicyIds().includes(p))).toEqual([]);
  });
});
