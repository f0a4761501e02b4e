import { expect, test } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blockNetwork } from './offline.ts';

// Crystal as a package (npm run build:lib): packed with npm, installed from the tarball into a
// copy of e2e/fixtures/lib-app (an app of its own, with vite from npm's cache), its code
// type-checked against the installed declarations, built with Vite and served on its own port;
// in Chromium it runs a streamed chat on the bundled model through the web-llm interface, in a
// worker whose file is `import 'crystal/worker'`.
const ROOT = resolve('.');
const PORT = 4180;
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');

function sh(cmd: string, args: string[], cwd: string): string {
  const started = Date.now();
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${err.status}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  } finally {
    console.log(`[library] ${cmd} ${args.slice(0, 2).join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function waitForServer(url: string, server: ChildProcess, log: () => string): Promise<void> {
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    if (server.exitCode !== null) throw new Error(`vite preview exited ${server.exitCode}:\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url}:\n${log()}`);
}

test('the packed library, installed in an app of its own, streams a chat through its web-llm interface', async ({ page }) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'crystal-lib-'));
  const app = join(dir, 'app');
  let server: ChildProcess | undefined;
  try {
    sh('npm', ['run', 'build:lib'], ROOT);
    const [packed] = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist-lib/index.js', 'dist-lib/worker.js', 'dist-lib/types/index.d.ts', 'dist-lib/types/engine/worker.d.ts']));
    expect(files.filter((f) => /(^|\/)(src|ui|public)\//.test(f) || f.endsWith('.wgsl'))).toEqual([]);

    cpSync('e2e/fixtures/lib-app', app, { recursive: true, filter: (f) => !/[/\\](node_modules|dist)$/.test(f) });
    sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename)], app);

    // The app's code against the installed declarations, as its tsconfig has it (skipLibCheck, as
    // web-llm's own declarations need); then every declaration file too, where only web-llm's may fail.
    sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    let strict = '';
    try {
      sh(process.execPath, [tsc, '-p', 'tsconfig.json', '--skipLibCheck', 'false'], app);
    } catch (e) {
      strict = (e as Error).message;
    }
    const errors = strict.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors.filter((l) => !l.startsWith('node_modules/@mlc-ai/web-llm/'))).toEqual([]);

    cpSync('public/models/tiny-reasoner-qwen3', join(app, 'public/models/tiny-reasoner-qwen3'), { recursive: true });
    sh(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], app);

    let log = '';
    server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { cwd: app, stdio: 'pipe' });
    server.stdout!.on('data', (d) => (log += d));
    server.stderr!.on('data', (d) => (log += d));
    const url = `http://127.0.0.1:${PORT}/`;
    await waitForServer(url, server, () => log);

    const blocked = await blockNetwork(page);
    const started = Date.now();
    await page.goto(url);
    await expect(page.locator('body')).toHaveAttribute('data-done', 'true', { timeout: 120_000 });
    console.log(`[library] page: load and chat ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await expect(page.locator('#error')).toHaveText('');
    const reply = (await page.locator('#reply').textContent()) ?? '';
    const usage = JSON.parse((await page.locator('#usage').textContent()) ?? 'null') as { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
    console.log(`[library] reply: ${JSON.stringify(reply.slice(0, 120))}; usage: ${JSON.stringify(usage)}`);
    expect(reply.trim().length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBeLessThanOrEqual(64);
    expect(usage!.prompt_tokens).toBeGreaterThan(0);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    expect(blocked).toEqual([]);
  } finally {
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
