/**
 * The kernel benchmark (npm run bench -- --kernels): each kernel's time and achieved GB/s, also as
 * a share of the adapter's own bandwidth measured in the same run, after a check against its CPU
 * reference (llm.c's "all results match, starting benchmarks"), over a workgroup-size sweep.
 * 1. bandwidth: copyBufferToBuffer and the stream-read kernel over a 256 MiB buffer; the peak is
 *    the best of them (kernel-bandwidth.ts).
 * 2. gemv at Qwen3-0.6B's Linear shapes in f32, f16 and q4f16, decode and a prefill tile of 64
 *    (kernel-gemv.ts).
 * 3. paged-attention (f16 KV) and score-update (h2o, crystal-lite) decoding one token at cache
 *    lengths 1K-32K, Qwen3-0.6B and R1-Distill-Qwen-1.5B head shapes (kernel-attention.ts).
 * A failed check prints ERROR on its row and the kernel is not timed; the result's `ok` is then
 * false and the caller exits non-zero. No DOM: the browser bench page and Node (Dawn) both call
 * kernelBench with a Gpu and a line printer.
 *
 * SwiftShader (WebGPU on the CPU; 2 cores here): its compute is emulated while its copy is a
 * memcpy, so the copy is the peak and kernels land at a few % of it; only the ratios mean much.
 * The full set is not cut there: it took 4.5 min on a lightly loaded machine (other test suites
 * sharing the 2 cores can double that). What shrinks is the repetitions of a dispatch that takes
 * seconds there (prefill tiles, lm_head, 16K/32K attention, the 256 MiB stream-read): it runs as
 * often as fits in 4 s (kernel-measure.ts SLOW_MS), once or twice instead of 5 times. `quick`
 * (about 55 s there): 1K and 4K only, no lm_head and no prefill tile, 64 MiB bandwidth buffer and
 * cold working set.
 */
import type { Gpu } from '../src/gpu/device.ts';
import type { WeightFormat } from '../src/kernels/gemv.ts';
import { createCrystalLite } from '../src/policies/crystal-lite.ts';
import { createH2o } from '../src/policies/h2o.ts';
import type { EvictionPolicy } from '../src/policies/policy.ts';
import { ATTENTION_SHAPES, ATTENTION_VARIANTS, benchAttentionKernels, type AttentionVariant } from './kernel-attention.ts';
import { measureBandwidth } from './kernel-bandwidth.ts';
import { benchGemv, QWEN3_LINEARS, type GemvVariant } from './kernel-gemv.ts';
import { createTimer, MAX_COPIES, type KernelRow } from './kernel-measure.ts';

export type KernelSection = 'bandwidth' | 'gemv' | 'attention' | 'score-update';

export interface KernelBenchOptions {
  /** Timed batches per kernel, whose median is printed; default 5 (quick 3). */
  runs?: number;
  /** The reduced set (about a minute on SwiftShader). */
  quick?: boolean;
  /** Sections to run; default all. */
  sections?: readonly KernelSection[];
  /** Workgroup sizes swept (those above the adapter's limit are dropped); default 32, 64, 128, 256. */
  wgs?: readonly number[];
  /** Bytes of the bandwidth buffer; default 256 MiB (quick 64 MiB), capped by the limits. */
  bandwidthBytes?: number;
  /** Each case cycles through copies of its inputs until they pass this many bytes; default 256 MiB (quick 64 MiB). */
  flushBytes?: number;
  /** Linear shapes by name (QWEN3_LINEARS); default gate_up, down, lm_head (quick gate_up, down). */
  linears?: readonly string[];
  formats?: readonly WeightFormat[];
  /** gemv step rows; default 1 and 64 (quick 1). */
  gemvRows?: readonly number[];
  gemvVariants?: readonly GemvVariant[];
  /** Attention head shapes by model (ATTENTION_SHAPES); default all. */
  models?: readonly string[];
  /** KV entries per head; default 1K, 4K, 16K, 32K (quick 1K, 4K). */
  cacheLengths?: readonly number[];
  attentionVariants?: readonly AttentionVariant[];
  /** Policies whose GPU score update is timed; default h2o and crystal-lite. */
  scorePolicies?: readonly EvictionPolicy[];
}

export interface KernelBenchResult {
  /** Every check passed and every section ran. */
  ok: boolean;
  failures: string[];
  /** GB/s: the best of the bandwidth rows (NaN without that section). */
  peak: number;
  rows: KernelRow[];
  seconds: number;
}

const MiB = 2 ** 20;

export async function kernelBench(gpu: Gpu, log: (line: string) => void, opts: KernelBenchOptions = {}): Promise<KernelBenchResult> {
  const t0 = performance.now();
  const quick = opts.quick ?? false;
  const limits = gpu.device.limits;
  const maxWg = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const wgs = (opts.wgs ?? [32, 64, 128, 256]).filter((wg) => wg <= maxWg);
  const runs = opts.runs ?? (quick ? 3 : 5);
  const sections = new Set(opts.sections ?? ['bandwidth', 'gemv', 'attention', 'score-update']);
  const flushBytes = opts.flushBytes ?? (quick ? 64 : 256) * MiB;
  const linearNames = opts.linears ?? (quick ? ['gate_up', 'down'] : ['gate_up', 'down', 'lm_head']);
  const linears = linearNames.map((n) => QWEN3_LINEARS.find((l) => l.name === n) ?? unknown('linear', n, QWEN3_LINEARS.map((l) => l.name)));
  const models = (opts.models ?? ATTENTION_SHAPES.map((s) => s.model)).map((m) => ATTENTION_SHAPES.find((s) => s.model === m) ?? unknown('model', m, ATTENTION_SHAPES.map((s) => s.model)));

  log(`adapter        ${gpu.adapterInfo}`);
  log(`benchmark      kernels against this adapter's own bandwidth${quick ? ' (quick set)' : ''}`);
  log(`features       timestamp-query ${gpu.hasTimestamps ? 'yes' : 'no'}, subgroups ${gpu.hasSubgroups ? 'yes' : 'no'}; maxStorageBufferBindingSize ${(limits.maxStorageBufferBindingSize / MiB).toFixed(0)} MiB, maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup}`);
  const timer = createTimer(gpu, runs);
  log(`timing         ${timer.method}`);
  log(`cold data      each case cycles through copies of its inputs until they pass ${(flushBytes / MiB).toFixed(0)} MiB, so it streams memory, not cache (at most ${MAX_COPIES} copies: inputs under ${(flushBytes / MAX_COPIES / MiB).toFixed(0)} MiB may still hit)`);
  log(`workgroups     ${wgs.join(' ')} (the fastest of each kernel and shape is marked)`);
  log('GB/s           1e9 bytes per second; MB: 1e6 bytes moved per dispatch; "of peak": against the best bandwidth row');

  const rows: KernelRow[] = [];
  const failures: string[] = [];
  let peak = NaN;
  const section = async (name: string, run: () => Promise<void>) => {
    log('');
    const start = performance.now();
    try {
      await run();
      log(`(${name}: ${((performance.now() - start) / 1000).toFixed(1)} s)`);
    } catch (e) {
      const message = `${name}: ${e instanceof Error ? e.message : String(e)}`;
      failures.push(message);
      log(`ERROR ${message}`);
    }
  };

  try {
    if (sections.has('bandwidth')) {
      await section('bandwidth', async () => {
        const b = await measureBandwidth(gpu, timer, log, { bytes: opts.bandwidthBytes ?? (quick ? 64 : 256) * MiB, wgs });
        peak = b.peak;
        rows.push(...b.rows);
      });
    }
    if (sections.has('gemv')) {
      await section('gemv', async () => {
        const formats = opts.formats ?? ['f32', 'f16', 'q4f16'];
        const gemvRows = opts.gemvRows ?? (quick ? [1] : [1, 64]);
        rows.push(...(await benchGemv(gpu, timer, log, peak, { linears, formats, rows: gemvRows, wgs, flushBytes, variants: opts.gemvVariants })));
      });
    }
    if (sections.has('attention') || sections.has('score-update')) {
      await section('attention', async () => {
        const attentionRows = await benchAttentionKernels(gpu, timer, log, peak, {
          shapes: models,
          lengths: opts.cacheLengths ?? (quick ? [1024, 4096] : [1024, 4096, 16384, 32768]),
          wgs,
          flushBytes,
          attentionVariants: opts.attentionVariants ?? ATTENTION_VARIANTS,
          scorePolicies: opts.scorePolicies ?? [createH2o(), createCrystalLite()],
          sections: { attention: sections.has('attention'), scoreUpdate: sections.has('score-update') },
        });
        rows.push(...attentionRows);
      });
    }
  } finally {
    timer.destroy();
  }

  for (const r of rows) if (!r.check.ok) failures.push(`${r.name}${r.variant ? ` ${r.variant}` : ''} wg ${r.wg}: ${r.check.text}`);
  const seconds = (performance.now() - t0) / 1000;
  log('');
  const checked = rows.length;
  if (failures.length === 0) log(`checks         all ${checked} rows match their CPU reference; ${seconds.toFixed(1)} s`);
  else {
    log(`checks         ${failures.length} FAILED of ${checked} rows; ${seconds.toFixed(1)} s`);
    for (const f of failures) log(`ERROR ${f}`);
  }
  return { ok: failures.length === 0, failures, peak, rows, seconds };
}

function unknown(what: string, name: string, known: string[]): never {
  throw new Error(`unknown ${what} "${name}"; known: ${known.join(', ')}`);
}
