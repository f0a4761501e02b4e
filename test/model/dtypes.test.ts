import { describe, expect, test } from 'vitest';
import { parseSafetensors, readTensorF32, writeSafetensors } from '../../src/model/safetensors.ts';

describe('safetensors dtypes widen to f32', () => {
  const values = new Float32Array([0, 1, -2, 0.5, 3.140625, -65504, 1e-5, 6e-8]);
  test('F32 round trip is exact', () => {
    const f = parseSafetensors(writeSafetensors([{ name: 'x', shape: [8], data: values }]).buffer as ArrayBuffer);
    expect(Array.from(readTensorF32(f, f.tensors.get('x')!))).toEqual(Array.from(values));
  });
  test('F16 within half precision, subnormals included', () => {
    const f = parseSafetensors(writeSafetensors([{ name: 'x', shape: [2, 4], data: values }], 'F16').buffer as ArrayBuffer);
    const got = readTensorF32(f, f.tensors.get('x')!);
    for (let i = 0; i < values.length; i++) expect(Math.abs(got[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -11 + 2 ** -25);
  });
  test('BF16 within bfloat16 precision', () => {
    const f = parseSafetensors(writeSafetensors([{ name: 'x', shape: [8], data: values }], 'BF16').buffer as ArrayBuffer);
    const got = readTensorF32(f, f.tensors.get('x')!);
    for (let i = 0; i < values.length; i++) expect(Math.abs(got[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -8);
    expect(got[1]).toBe(1);
  });
});
