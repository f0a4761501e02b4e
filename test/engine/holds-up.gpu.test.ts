// Issue 13, criterion 6: the engine holds up at its boundary, on the GPU backend. createEngineCore
// gets a gpu dependency that makes a fresh device on every call (so a test can destroy one and
// see the engine ask for the next), and loads the bundled model from the test server.
//   1. 200 short generations over every GPU policy, several budgets, both modes, the full cache
//      and telemetry: the allocation ledger and the JS heap come back to where they were.
//   2. Abort during prefill and during decode; the engine then generates as before.
//   3. A second request while one runs is queued: both complete, in order, as when run alone.
//   4. The device is lost mid-generation: DeviceLostError, then load() on a new device.
//   5. A chat continuation (reusePrefix): the full cache as a fresh run; h2o's decisions as the CPU reference's.
// SwiftShader prefills at about 5 ms a token, so the soak's prompts are tiny programs.
import { describe, expect, test } from 'vitest';
import { cdp } from 'vitest/browser';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { engineFromCore, type EngineCore } from '../../src/engine/engine.ts';
import { GREEDY, type ChatMessage, type GenerateRequest, type GenerationResult, type Step } from '../../src/engine/types.ts';
import { GenerationAbortedError } from '../../src/errors.ts';
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';
import { ledgerOf } from '../../src/gpu/ledger.ts';
import { gpuPolicyIds, USER_POLICY_IDS } from '../../src/policies/registry.ts';

const BASE = '/models/tiny-reasoner-qwen3/';
const LOAD = { url: BASE, name: 'tiny-reasoner-qwen3', backend: 'gpu' as const };

/** A gpu dependency that requests a new device on every call, and remembers each one. */
function freshDevices(): { made: Gpu[]; gpu: () => Promise<Gpu> } {
  const made: Gpu[] = [];
  return {
    made,
    gpu: async () => {
      const g = await requestGpu();
      made.push(g);
      return g;
    },
  };
}

/** golden.json's prompts (the bundled model's eval programs, 82 to 170 prompt tokens). */
const golden = ((await (await fetch(BASE + 'golden.json')).json()) as { cases: { user: string; prompt_ids: number[]; generated_ids: number[] }[] }).cases;

const [first, second] = golden;

/** Short programs, 22 to 41 prompt tokens (one prefill tile; the chat template makes 19 of them). */
const SHORT = ['? a', 'a=1\n? a', 'k=3\nw=k\n? w', 'e=7\nw=7\nz=8\ny=z-w\n? y', 'a=1\nb=2\nc=a+b\n? c'];

type Run = GenerationResult & { steps: Step[] };

/** Runs a request on the core, collecting its steps. */
async function run(core: EngineCore, request: GenerateRequest): Promise<Run> {
  const steps: Step[] = [];
  const result = await core.generate(request, (s) => steps.push(...s));
  return { ...result, steps };
}

/** A step's evictions as sorted (layer:kvHead:position) strings (a round's order is the kernel's). */
const evictedAt = (s: Step): string[] =>
  Array.from({ length: s.cache!.evicted.length / 3 }, (_, i) => s.cache!.evicted.subarray(3 * i, 3 * i + 3).join(':')).sort();

/**
 * The JS heap in use after a full garbage collection, through the Chrome DevTools protocol.
 * performance.memory is no use here: without --enable-precise-memory-info Chromium rounds
 * usedJSHeapSize to buckets and refreshes it at most every 20 minutes (it does not move while a
 * 16 MB array is made), and it cannot force a collection, so any growth would read as zero.
 */
async function heapAfterGc(): Promise<number> {
  let session: ReturnType<typeof cdp>;
  try {
    session = cdp();
  } catch (e) {
    throw new Error(`The heap check needs the Chrome DevTools protocol (vitest's cdp(), Chromium through Playwright): ${String(e)}`);
  }
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize } = await session.send('Runtime.getHeapUsage');
  expect(usedSize).toBeGreaterThan(0);
  return usedSize;
}

describe('the engine holds up on the GPU backend', async () => {
  const devices = freshDevices();
  const core = createEngineCore({ gpu: devices.gpu });
  const engine = engineFromCore(core);
  const info = await engine.load(LOAD);

  test('the engine runs on a device from the gpu dependency', () => {
    expect(info.backend).toBe('gpu');
    expect(devices.made).toHaveLength(1);
  });

  // 1. The soak. The KV pool, the chooser's buffers and the read-back are re-made when a request's
  // cache settings or prompt need other sizes, so the ledger is compared after the same request as
  // the first (REF) at generations 0, 50, 100, 150 and 199: live bytes and buffer count must equal
  // generation 0's. The heap is compared from generation 100 (every config has run by then, so the
  // pipeline cache is complete) to 199; the bound is explained at the check.
  test('200 generations under mixed policies, budgets and modes: no GPU buffer kept, bounded heap', async () => {
    const policies = gpuPolicyIds();
    expect(policies.length).toBeGreaterThan(5);
    expect(USER_POLICY_IDS.filter((id) => id !== 'full' && !policies.includes(id))).toEqual([]); // every user policy but full has a GPU rule
    // 'all' budgets below the prompts' lengths, so the prompt cut evicts; 'think' ones above each policy's recent window.
    const configs: NonNullable<GenerateRequest['cache']>[] = [];
    for (const policy of policies) {
      for (const budget of [17, 19, 21]) configs.push({ policy, budget, mode: 'all' });
      for (const budget of [17, 24]) configs.push({ policy, budget, mode: 'think' });
    }
    const REF: GenerateRequest = { prompt: SHORT[1], maxNewTokens: 4, sampling: GREEDY, cache: { policy: 'h2o', budget: 19, mode: 'all' } };
    const checkpoints = new Set([0, 50, 100, 150, 199]);
    const ledger = ledgerOf(devices.made[0].device);
    let reference: { live: number; buffers: number; ids: number[] } | undefined;
    const heap: Record<number, number> = {};
    const pipelines: Record<number, number> = {}; // the device's pipeline cache: one per shader and shape
    const seen = { policies: new Set<string>(), full: 0, telemetry: 0, think: 0, all: 0, evicted: 0, sampled: 0 };
    let k = 0; // generations other than REF so far
    let e = 0; // of them, under a budget
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      let request = REF;
      if (!checkpoints.has(i)) {
        const cache = k % 6 === 0 ? (k % 12 === 0 ? undefined : { policy: 'full' }) : configs[e++ % configs.length];
        request = {
          prompt: SHORT[k % 3],
          maxNewTokens: 3 + (k % 4),
          sampling: k % 5 === 2 ? { temperature: 0.8, topP: 0.9, seed: k } : GREEDY,
          cache,
          telemetry: k % 4 === 1 ? { watchLayer: k % 3 } : k % 4 === 3 ? {} : undefined,
        };
        k++;
      }
      let steps = 0;
      let evicted = 0;
      const r = await core.generate(request, (s) => {
        steps += s.length;
        for (const step of s) evicted += (step.cache?.evicted.length ?? 0) / 3;
      });
      expect(r.generatedIds.length).toBe(steps);
      expect(r.generatedIds.length).toBeLessThanOrEqual(request.maxNewTokens);
      if (request.sampling.temperature > 0) seen.sampled++;
      if (request.telemetry) {
        seen.telemetry++;
        expect(evicted).toBe(r.kv.evictions); // every eviction is reported, once
      }
      const c = request.cache;
      if (!c || c.policy === 'full') {
        seen.full++;
        expect(r.kv.evictions).toBe(0);
      } else {
        seen.policies.add(c.policy);
        seen[c.mode!]++;
        if (r.kv.evictions > 0) seen.evicted++;
        if (c.mode === 'all') expect(r.kv.evictions).toBeGreaterThan(0); // the prompt is longer than the budget
      }
      if (checkpoints.has(i)) {
        const now = { live: ledger.live, buffers: ledger.buffers, ids: r.generatedIds };
        if (i === 0) reference = now;
        else expect({ generation: i, ...now }).toEqual({ generation: i, ...reference });
        if (i >= 100) {
          heap[i] = await heapAfterGc();
          pipelines[i] = devices.made[0].pipelines.size;
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`200 generations in ${seconds.toFixed(1)} s; ledger after REF: ${reference!.live} B in ${reference!.buffers} buffers; heap after GC: ${JSON.stringify(heap)}; pipelines ${JSON.stringify(pipelines)}`);
    expect(seen.policies.size).toBe(policies.length);
    for (const [what, n] of Object.entries({ full: seen.full, telemetry: seen.telemetry, think: seen.think, all: seen.all, sampled: seen.sampled })) {
      expect(n, `generations with ${what}`).toBeGreaterThanOrEqual(20);
    }
    expect(seen.evicted).toBeGreaterThan(50);
    expect(reference!.buffers).toBeGreaterThan(10);
    // The bound: 384 KiB over the last 99 generations. After a forced GC the heap here grows by
    // 223 to 227 KB over them, the same in every run (idle or loaded machine), and not in step
    // with the generations (most of it comes before generation 150): the browser settling.
    // Keeping every streamed Step of those generations (telemetry included), tried on purpose,
    // makes it 436 KB and fails; so would anything else kept at more than about 1.6 KB a generation.
    expect(heap[199] - heap[100]).toBeLessThan(384 * 1024);
    expect(pipelines[199]).toBe(pipelines[100]); // no new shapes once every config has run
  });

  // 2. Abort. An abort() right after generate() reaches that generation even before it has started
  // (engine-core.ts `asked`). In prefill the loop stops after the tile in flight with
  // GenerationAbortedError and nothing is streamed; in decode it stops before the next forward
  // with stopReason 'aborted' and the tokens so far (decode-loop.ts).
  test('abort during prefill and during decode; then the same tokens as an undisturbed run', async () => {
    const device = devices.made[0].device;
    const long: GenerateRequest = { prompt: golden[3].user, maxNewTokens: 3, sampling: GREEDY, cache: { policy: 'crystal', budget: 64, mode: 'all' } };
    const whole = await run(core, long);
    const tiles = Math.ceil(whole.promptTokens / 64);
    expect(tiles).toBeGreaterThanOrEqual(3);

    // Prefill: abort as soon as the generation is asked for.
    const queue = device.queue;
    const submit = queue.submit;
    let submits = 0;
    queue.submit = function (this: GPUQueue, ...args: Parameters<GPUQueue['submit']>) {
      submits++;
      return submit.apply(this, args);
    };
    let streamed = 0;
    let aborted: unknown;
    try {
      const generation = engine.generate(long);
      await engine.abort();
      for await (const step of generation) streamed += step.index + 1;
    } catch (error) {
      aborted = error;
    } finally {
      queue.submit = submit;
    }
    expect(aborted).toBeInstanceOf(GenerationAbortedError);
    expect(streamed).toBe(0);
    expect(submits).toBeLessThan(tiles); // stopped inside the prefill, not after it
    expect(submits).toBeGreaterThan(0);
    expect((await run(core, long)).generatedIds).toEqual(whole.generatedIds);

    // Decode: abort after three streamed steps.
    const decode: GenerateRequest = { prompt: SHORT[4], maxNewTokens: 40, sampling: GREEDY, cache: { policy: 'h2o', budget: 24, mode: 'all' }, telemetry: {} };
    const full = await run(core, decode);
    expect(full.stopReason).not.toBe('aborted');
    expect(full.generatedIds.length).toBeGreaterThan(10);
    const generation = engine.generate(decode);
    const tokens: number[] = [];
    for await (const step of generation) {
      tokens.push(step.token);
      if (step.index === 2) await engine.abort();
    }
    const stopped = await generation.result;
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.generatedIds).toEqual(tokens);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens.length).toBeLessThan(full.generatedIds.length);
    expect(tokens).toEqual(full.generatedIds.slice(0, tokens.length));
    const again = await run(core, decode);
    expect([again.generatedIds, again.stopReason, again.kv]).toEqual([full.generatedIds, full.stopReason, full.kv]);
    expect(again.steps.map(evictedAt)).toEqual(full.steps.map(evictedAt));
  });

  // 3. The core runs one generation at a time: a second generate() is chained after the first
  // (engine-core.ts exclusive()), even when asked in the same tick. web-llm 0.2.86 queues too: a
  // per-model CustomLock that chatCompletion and the streaming asyncGenerate acquire first.
  test('a second request while one runs is queued: both complete in order, as when run alone', async () => {
    const A: GenerateRequest = { prompt: SHORT[3], maxNewTokens: 12, sampling: GREEDY, cache: { policy: 'h2o', budget: 20, mode: 'all' } };
    const B: GenerateRequest = { prompt: SHORT[1], maxNewTokens: 10, sampling: { temperature: 0.7, topP: 0.95, seed: 5 }, cache: { policy: 'crystal', budget: 17, mode: 'think' }, telemetry: { watchLayer: 1 } };
    const aloneA = await run(core, A);
    const aloneB = await run(core, B);
    const log: string[] = [];
    const stepsB: Step[] = [];
    const a = core.generate(A, (s) => s.forEach((x) => log.push(`A${x.index}`))).then((r) => (log.push('A done'), r));
    const b = core.generate(B, (s) => s.forEach((x) => (log.push(`B${x.index}`), stepsB.push(x)))).then((r) => (log.push('B done'), r));
    const [ra, rb] = await Promise.all([a, b]);
    const indices = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`);
    expect(log).toEqual([...indices(aloneA.generatedIds.length, 'A'), 'A done', ...indices(aloneB.generatedIds.length, 'B'), 'B done']);
    const same = (r: GenerationResult) => [r.generatedIds, r.text, r.stopReason, r.promptTokens, r.kv];
    expect(same(ra)).toEqual(same(aloneA));
    expect(same(rb)).toEqual(same(aloneB));
    expect(stepsB.map((s) => [s.token, s.cache!.counts, s.cache!.watched!.positions])).toEqual(aloneB.steps.map((s) => [s.token, s.cache!.counts, s.cache!.watched!.positions]));
  });

  // 4. A lost device: the generation rejects with DeviceLostError (engine-core.ts deviceLostOr),
  // the engine drops its backend, and load() asks the gpu dependency for a new device.
  test('the device is lost mid-generation: DeviceLostError, then load() on a new device generates as before', async () => {
    const own = freshDevices();
    const lostCore = createEngineCore({ gpu: own.gpu });
    await lostCore.load(LOAD);
    const request: GenerateRequest = { prompt: first.user, maxNewTokens: 24, sampling: GREEDY, cache: { policy: 'h2o', budget: 96, mode: 'all' } };
    const before = await run(lostCore, request);
    expect(before.generatedIds.length).toBeGreaterThan(8);
    let destroyedAt = -1;
    const error = await lostCore
      .generate(request, (steps) => {
        // Destroyed from a timer: the loss lands while a step's forward is on the device.
        if (destroyedAt < 0 && steps.some((s) => s.index === 3)) {
          destroyedAt = 3;
          setTimeout(() => own.made[0].device.destroy(), 0);
        }
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(destroyedAt).toBe(3);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('DeviceLostError');
    expect((error as Error).message).toMatch(/transcript is kept/);
    await expect(lostCore.generate(request, () => {})).rejects.toThrow(/No model is loaded \(generate\): call load\(\) first/); // the dead backend is gone
    await lostCore.load(LOAD);
    expect(own.made).toHaveLength(2);
    expect(own.made[1].device).not.toBe(own.made[0].device);
    const after = await run(lostCore, request);
    expect([after.generatedIds, after.stopReason, after.kv]).toEqual([before.generatedIds, before.stopReason, before.kv]);
    await lostCore.unload();
    // What stays is gemv's 16-byte placeholder binding, made once per device (kernels/gemv.ts).
    expect(ledgerOf(own.made[1].device).buffers).toBeLessThanOrEqual(1);
    expect(ledgerOf(own.made[1].device).live).toBeLessThanOrEqual(16);
  });

  // 5. A chat's second turn (reusePrefix), as multi-turn.test.ts on the CPU reference.
  describe('a chat continuation on the GPU backend', async () => {
    const cpu = createEngineCore();
    await cpu.load({ ...LOAD, backend: 'cpu-reference' });
    const history = (turn1: GenerationResult): ChatMessage[] => [
      { role: 'user', content: first.user },
      { role: 'assistant', content: turn1.answer },
      { role: 'user', content: second.user },
    ];
    const turn = (messages: ChatMessage[], extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages, maxNewTokens: 400, sampling: GREEDY, ...extra });

    test('the full cache: the second turn reuses the first prompt and writes what a fresh run writes', async () => {
      await core.resetChat();
      const turn1 = await run(core, turn([{ role: 'user', content: first.user }], { reusePrefix: true }));
      expect([turn1.reusedTokens, turn1.promptTokens, turn1.closedThink]).toEqual([0, first.prompt_ids.length, true]);
      expect(turn1.generatedIds).toEqual(first.generated_ids);
      const messages = history(turn1);
      const turn2 = await run(core, turn(messages, { reusePrefix: true, maxNewTokens: 32 }));
      expect(turn2.reusedTokens).toBe(turn1.promptTokens);
      expect(turn2.prefilledTokens).toBe(turn2.promptTokens - turn1.promptTokens);
      const fresh = await run(core, turn(messages, { maxNewTokens: 32 }));
      expect([fresh.reusedTokens, fresh.promptTokens]).toEqual([0, turn2.promptTokens]);
      expect(turn2.generatedIds).toEqual(fresh.generatedIds);
      expect(turn2.generatedIds).toHaveLength(32);
    });

    test("h2o, all 224 (the pool holds both prompts): the continued turn's evictions are the CPU reference's", async () => {
      const cache = { policy: 'h2o', budget: 224, mode: 'all' as const };
      const chat = async (c: EngineCore) => {
        await c.resetChat();
        const turn1 = await run(c, turn([{ role: 'user', content: first.user }], { reusePrefix: true, cache, telemetry: {} }));
        const turn2 = await run(c, turn(history(turn1), { reusePrefix: true, cache, telemetry: {}, maxNewTokens: 48 }));
        return { turn1, turn2 };
      };
      const want = await chat(cpu);
      const got = await chat(core);
      expect(got.turn1.generatedIds).toEqual(want.turn1.generatedIds);
      expect(want.turn2.reusedTokens).toBe(want.turn1.promptTokens);
      expect(want.turn2.kv.evictions).toBeGreaterThan(0);
      expect([got.turn2.reusedTokens, got.turn2.prefilledTokens, got.turn2.promptTokens]).toEqual([want.turn2.reusedTokens, want.turn2.prefilledTokens, want.turn2.promptTokens]);
      expect(got.turn2.generatedIds).toEqual(want.turn2.generatedIds);
      expect(got.turn2.kv).toEqual(want.turn2.kv);
      expect(got.turn2.steps.map(evictedAt)).toEqual(want.turn2.steps.map(evictedAt));
      expect(got.turn2.steps.map((s) => s.cache!.counts)).toEqual(want.turn2.steps.map((s) => s.cache!.counts));
    });
  });
});
