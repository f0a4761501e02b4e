/**
 * The GPU bundle (npm run bundle:gpu) proven here: it is built (lightly compressed), unpacked into
 * an empty folder outside the checkout, and its run.sh quick runs on this machine's SwiftShader
 * Vulkan driver, named explicitly, with a one-layer model so it ends in about a minute. Where a
 * mount namespace can be had (root, as in CI), the checkout and the system's Node are hidden while
 * it runs, so anything the bundle reached for outside its folder would fail the run; elsewhere the
 * bundle's code is searched for paths into the checkout instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { BUNDLE_LIMIT_BYTES, bundleGpu } from '../../scripts/bundle-gpu.ts';
import { SWIFTSHADER_ICD } from '../../scripts/lib/dawn-gpu.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'crystal-gpu-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SETTINGS = {
  VK_DRIVER_FILES: SWIFTSHADER_ICD, LAYERS: '1', CONTEXTS: '128', TOKENS: '4', RUNS: '1', BUDGET: '64', SECTIONS: 'score-update',
  AGREE_POLICIES: 'h2o', AGREE_PROMPTS: '1', // one policy on one prompt: the step runs, and compares (SwiftShader is slow)
};

/** Whether this machine lets us hide folders from a command (unshare -m, as root). */
const canHide = spawnSync('unshare', ['-m', 'true']).status === 0;

test('the bundle unpacks into an empty folder and runs run.sh quick there, reaching for nothing outside it', { timeout: 300_000 }, async () => {
  const { out: archive, bytes } = await bundleGpu({ out: join(work, 'crystal-gpu.tar.xz'), fast: true });
  // xz -0 here; npm run bundle:gpu's xz -9 is smaller still.
  expect(bytes).toBeLessThanOrEqual(BUNDLE_LIMIT_BYTES);
  const host = join(work, 'host');
  execFileSync('mkdir', ['-p', host]);
  execFileSync('tar', ['-C', host, '-xJf', archive]);
  const dir = join(host, 'crystal-gpu');
  expect(readdirSync(dir).sort()).toEqual(['app', 'lib', 'node', 'run.sh']);
  const results = join(work, 'results');

  const run = `cd ${dir} && ./run.sh quick ${results}`;
  const systemNode = realpathSync(process.execPath);
  const hidden = `mount -t tmpfs none ${ROOT} && mount --bind /dev/null ${systemNode} && ${run}`;
  const env = { PATH: '/usr/bin:/bin', ...SETTINGS };
  const r = canHide ? spawnSync('unshare', ['-m', 'bash', '-c', hidden], { env, encoding: 'utf8' }) : spawnSync('bash', ['-c', run], { env, encoding: 'utf8' });
  console.log(`[bundle] ${(bytes / 2 ** 20).toFixed(1)} MiB; ${canHide ? 'the checkout and the system Node hidden while it ran' : 'no mount namespace here: the bundle searched for the checkout path'}`);
  if (!canHide) {
    for (const f of ['bench.mjs', 'make-real-shape-models.mjs', 'eval.mjs']) expect(readFileSync(join(dir, 'app', f), 'utf8')).not.toContain(ROOT);
  }
  const log = (name: string) => (existsSync(join(results, name)) ? readFileSync(join(results, name), 'utf8') : '');
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

  // The steps ran in order, each in its own log: libraries, model, adapter, decode, agreement, kernels, peer.
  const steps = [...log('run.txt').matchAll(/^== (\w+)/gm)].map((m) => m[1]);
  expect(steps).toEqual(['libraries', 'model', 'adapter', 'decode', 'agreement', 'kernels', 'peer', 'done']);
  expect(log('libs.txt')).toMatch(/^glibc: host [\d.]+, needed 2\.\d+/m);
  expect(log('adapter.txt')).toMatch(/Vulkan driver .*vk_swiftshader_icd\.json \(from VK_DRIVER_FILES/);
  expect(log('adapter.txt')).toMatch(/^adapter +google \/ swiftshader/m);
  const decode = log('decode.txt');
  expect(decode).toMatch(/^ +128 {2}full +[\d.]+/m);
  expect(decode).toMatch(/^ +128 {2}crystal all 64 +[\d.]+/m);
  expect(log('kernels.txt')).toMatch(/^checks +all \d+ rows match their CPU reference/m);
  // The GPU engine's outcomes against the CPU reference's recorded ones, both cells.
  expect(log('agreement.txt').match(/^compare with app\/expected\.json: 1 outcomes identical, 0 differ, 0 not in it$/gm)).toHaveLength(2);
  expect(log('peer.txt')).toMatch(/^== peer: skipped: /);
});
