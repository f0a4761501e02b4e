#!/usr/bin/env node
// `npm test`: type-check, then every vitest project (Node + Chromium/WebGPU), then the Playwright
// end-to-end specs. Ends with one plain line "N passed, N failed" summed from the runners' JSON
// reports, so a run that executed nothing cannot pass as green.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const OUT = 'test-results';
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const run = (cmd, args, env = {}) =>
  spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

let passed = 0;
let failed = 0;
let skipped = 0;

console.log('\n== typecheck (tsc --noEmit)');
if (run('npx', ['tsc', '--noEmit', '-p', '.']) === 0) passed++;
else failed++;

console.log('\n== vitest (node + browser/WebGPU)');
const vitestStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${OUT}/vitest.json`]);
if (existsSync(`${OUT}/vitest.json`)) {
  const v = JSON.parse(readFileSync(`${OUT}/vitest.json`, 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + v.numTodoTests;
  // A file that failed to load has no tests but is a failure.
  failed += v.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
} else failed++;
if (vitestStatus !== 0 && failed === 0) failed++;

console.log('\n== playwright (end to end)');
const pwStatus = run('npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${OUT}/playwright.json` });
if (existsSync(`${OUT}/playwright.json`)) {
  const s = JSON.parse(readFileSync(`${OUT}/playwright.json`, 'utf8')).stats;
  passed += s.expected;
  failed += s.unexpected + s.flaky;
  skipped += s.skipped;
} else failed++;
if (pwStatus !== 0 && failed === 0) failed++;

if (passed === 0) failed++;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || skipped > 0 ? 1 : 0);
