import { describe, expect, test } from 'vitest';
import { REAL_SHAPES } from '../../scripts/lib/real-shapes.ts';
import { backendSizes } from '../../src/model/forward-backend.ts';
import { checkDeviceLimits } from '../../src/engine/device-limits.ts';
import { GpuLimitError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';

// Qwen3-0.6B's real shape against the spec's default limits (128 MiB bindings) and a desktop's.
const c = parseConfig(REAL_SHAPES['qwen3-0.6b']);
const limits = (binding: number) => ({ maxStorageBufferBindingSize: binding, maxBufferSize: 2 ** 32 });
const check = (binding: number, contextLength: number) => {
  const { maxStepTokens, geometry } = backendSizes(c, { contextLength, kvDtype: 'f16' });
  checkDeviceLimits(limits(binding), c, maxStepTokens, geometry);
};

describe('device limits a model needs, checked before allocating', () => {
  test('context 4096 fits 1 GiB bindings', () => expect(() => check(2 ** 30, 4096)).not.toThrow());
  test('the full 40960 context: its attention row outgrows 128 MiB, named with what to shrink', () => {
    expect(() => check(128 * 2 ** 20, 40960)).toThrow(GpuLimitError);
    expect(() => check(128 * 2 ** 20, 40960)).toThrow(/probs activations; a shorter context/);
  });
  test('at 1 GiB the 40960 context passes: its full K pool (2.3 GB) would not fit, but a budget sizes the pool later', () => {
    expect(() => check(2 ** 30, 40960)).not.toThrow();
  });
});
