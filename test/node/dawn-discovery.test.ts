/**
 * How the Node path finds its Vulkan driver (scripts/lib/dawn-gpu.ts): a named manifest or
 * VK_DRIVER_FILES is used as it is, a search tries GPU drivers before CPU ones, and with a GPU
 * required a CPU driver is never taken: the error lists what was tried.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { dawnGpu, driverManifests, NoGpuAdapterError, SWIFTSHADER_ICD } from '../../scripts/lib/dawn-gpu.ts';

const saved = { files: process.env.VK_DRIVER_FILES, icd: process.env.VK_ICD_FILENAMES };
beforeEach(() => {
  delete process.env.VK_DRIVER_FILES;
  delete process.env.VK_ICD_FILENAMES;
});
afterEach(() => {
  for (const [name, value] of [['VK_DRIVER_FILES', saved.files], ['VK_ICD_FILENAMES', saved.icd]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** A folder of driver manifests: `cpu` SwiftShader's (its library by absolute path), `gpu` a GPU driver's whose library is absent. */
function icdDir(entries: { cpu?: boolean; gpu?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'icd-'));
  if (entries.cpu) {
    const manifest = JSON.parse(readFileSync(SWIFTSHADER_ICD, 'utf8'));
    manifest.ICD.library_path = resolve(dirname(SWIFTSHADER_ICD), manifest.ICD.library_path);
    writeFileSync(join(dir, 'vk_swiftshader_icd.json'), JSON.stringify(manifest));
  }
  if (entries.gpu) writeFileSync(join(dir, 'nvidia_icd.json'), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libGLX_absent.so.0', api_version: '1.3.0' } }));
  return dir;
}

test('GPU drivers are tried before CPU drivers, each manifest once', () => {
  const dir = icdDir({ cpu: true, gpu: true });
  expect(driverManifests([dir, dir]).map((f) => f.slice(dir.length + 1))).toEqual(['nvidia_icd.json', 'vk_swiftshader_icd.json']);
});

test('a GPU driver that gives no adapter is passed over; the search says which driver it used', async () => {
  const { via, icd } = await dawnGpu({ dirs: [icdDir({ cpu: true, gpu: true })] });
  expect(icd).toMatch(/vk_swiftshader_icd\.json$/);
  expect(via).toMatch(/^Vulkan driver .*vk_swiftshader_icd\.json \(found in /);
});

test('with a GPU required, a CPU driver is never taken: the error lists what was tried', async () => {
  const error = await dawnGpu({ requireGpu: true, dirs: [icdDir({ cpu: true, gpu: true })] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NoGpuAdapterError);
  const tried = (error as NoGpuAdapterError).tried;
  expect(tried).toEqual([expect.stringMatching(/nvidia_icd\.json: no adapter$/), expect.stringMatching(/vk_swiftshader_icd\.json: a CPU driver, skipped/)]);
  expect((error as Error).message).toMatch(/VK_DRIVER_FILES/);
});

test('VK_DRIVER_FILES is honoured as it is: a manifest that gives nothing is an error, not a search', async () => {
  process.env.VK_DRIVER_FILES = '/nowhere/gpu_icd.json';
  const error = await dawnGpu().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NoGpuAdapterError);
  expect((error as NoGpuAdapterError).tried).toEqual(['/nowhere/gpu_icd.json (from the environment): no adapter']);
});

test('a manifest named explicitly is used, and said to be', async () => {
  const { via, icd } = await dawnGpu({ icd: 'swiftshader', requireGpu: true });
  expect(icd).toBe(SWIFTSHADER_ICD);
  expect(via).toContain('(asked for)');
});
