/**
 * What every row of the kernel benchmark shares: buffers freed together (Arena), the check of a
 * GPU result against its CPU reference, the timing of a kernel, and the printed row.
 *
 * Timing. A kernel is timed as batches of `count` back-to-back dispatches in one compute pass:
 * with timestamp-query by the pass's begin/end timestamps, as src/gpu/timing.ts takes them, else
 * by the wall time from submit to onSubmittedWorkDone; either way divided by `count`, and the
 * median over `runs` batches is reported. timing.ts gives each dispatch its own pass, right for
 * a decode step's profile, but a GEMV of a few µs on a real GPU is far below Chromium's timestamp
 * quantization (100 µs) and the cost of a pass: so the batch is grown until it lasts about
 * TARGET_MS. The checked run (Timer.once) is the first batch. Copies cannot carry timestamps (they
 * are not in a pass): they are always wall-timed, in batches the same way. A dispatch so slow that
 * `runs` of them would take over SLOW_MS (seconds each: only an emulated GPU such as SwiftShader
 * is) is run as many times as fit in SLOW_MS, at least once.
 *
 * Cold data. A decode step streams each layer's weights and KV once, so repeating one dispatch
 * over the same few MB would measure the GPU's L2 (50 MB on an H100/H200) instead of its
 * memory. Each case therefore builds `copies` dispatches over copies of its inputs, enough that
 * their bytes together pass `flushBytes`, and a batch cycles through them.
 */
import { BUFFER_USAGE, MAP_MODE_READ } from '../src/gpu/platform.ts';
import { createBuffer, createBufferFrom, STORAGE } from '../src/gpu/buffers.ts';
import type { Gpu } from '../src/gpu/device.ts';
import { encodeDispatch, type Dispatch } from '../src/gpu/kernel.ts';
import { median } from './stats.ts';

const TARGET_MS = 20; // a batch at least this long
const MAX_BATCH = 1000; // dispatches in one batch
export const MAX_COPIES = 32; // input copies a case cycles through
const SLOW_MS = 4000; // time one candidate's runs may take, when a single dispatch is that slow

/** GPU buffers made for one case, destroyed together. */
export class Arena {
  private readonly buffers: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  buffer(label: string, bytes: number, usage = STORAGE): GPUBuffer {
    return this.keep(createBuffer(this.device, label, bytes, usage));
  }

  upload(label: string, data: Float32Array | Uint32Array | Int32Array | Uint16Array): GPUBuffer {
    return this.keep(createBufferFrom(this.device, label, data));
  }

  /** A copy of `source` made on the GPU (a cold duplicate of an input). */
  clone(source: GPUBuffer): GPUBuffer {
    const copy = this.buffer(`${source.label} copy`, source.size);
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, copy, 0, source.size);
    this.device.queue.submit([encoder.finish()]);
    return copy;
  }

  destroy(): void {
    for (const b of this.buffers.splice(0)) b.destroy();
  }

  private keep(b: GPUBuffer): GPUBuffer {
    this.buffers.push(b);
    return b;
  }
}

/** How many copies of a case's `bytes` of inputs make a working set past `flushBytes`. */
export const copiesFor = (bytes: number, flushBytes: number): number => Math.max(1, Math.min(MAX_COPIES, Math.ceil(flushBytes / bytes)));

export interface Tolerance {
  atol: number;
  rtol?: number;
}

export interface Check {
  ok: boolean;
  maxErr: number; // max |got - want|
  text: string; // what the row prints: PASS and the max error, or ERROR and the first mismatch
}

/** |got - want| <= atol + rtol * |want| everywhere (NaN fails), as test/helpers/close.ts checks. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, { atol, rtol = 0 }: Tolerance): Check {
  if (got.length !== want.length) return { ok: false, maxErr: Infinity, text: `ERROR length ${got.length} != ${want.length}` };
  let maxErr = 0;
  let bad = 0;
  let first = '';
  for (let i = 0; i < got.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    if (!(diff <= atol + rtol * Math.abs(want[i]))) {
      if (bad++ === 0) first = `[${i}] got ${got[i]} want ${want[i]}`;
    }
    if (!(diff <= maxErr)) maxErr = Number.isNaN(diff) ? Infinity : diff;
  }
  if (bad > 0) return { ok: false, maxErr, text: `ERROR ${bad}/${got.length} off, max err ${maxErr.toExponential(1)}, ${first}` };
  return { ok: true, maxErr, text: `PASS ${maxErr.toExponential(1)}` };
}

/** Both checks must pass; the text is the failing one's, else the larger error's. */
export function both(a: Check, b: Check): Check {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return a.maxErr >= b.maxErr ? a : b;
}

/** What is timed as one: a dispatch, or a kernel's dispatches in order (split-K attention's split pass, then its reduce). */
export type Op = Dispatch | readonly Dispatch[];
const dispatchesOf = (op: Op): readonly Dispatch[] => ('pipeline' in op ? [op] : op);

/** Encodes `count` operations; `timestampWrites`, where given, go on the one compute pass that holds them. */
type EncodeBatch = (encoder: GPUCommandEncoder, count: number, timestampWrites?: GPUComputePassTimestampWrites) => void;

export interface Timer {
  /** How times are taken, for the header. */
  method: string;
  /**
   * Runs one dispatch inside validation and out-of-memory error scopes (a GPU error throws) and
   * returns its ms, timed as a batch of one: the checked run, which `kernel` reuses as a sample.
   */
  once(op: Op, rows: number): Promise<number>;
  /** Median ms per operation, cycling through `ops` (one per input copy); `onceMs`: the checked run's time. */
  kernel(ops: readonly Op[], rows: number, onceMs?: number): Promise<number>;
  /** Median ms per copyBufferToBuffer of `bytes` from `source` to `target`. */
  copy(source: GPUBuffer, target: GPUBuffer, bytes: number): Promise<number>;
  destroy(): void;
}

/** `count` operations cycling through `ops`, in one compute pass (its dispatches see each other's writes in order). */
function kernelBatch(ops: readonly Op[], rows: number): EncodeBatch {
  return (encoder, count, timestampWrites) => {
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : undefined);
    for (let i = 0; i < count; i++) for (const d of dispatchesOf(ops[i % ops.length])) encodeDispatch(pass, d, rows);
    pass.end();
  };
}

export function createTimer(gpu: Gpu, runs: number): Timer {
  const device = gpu.device;
  const stamps = gpu.hasTimestamps
    ? {
        querySet: device.createQuerySet({ type: 'timestamp', count: 2 }),
        resolve: device.createBuffer({ size: 16, usage: BUFFER_USAGE.QUERY_RESOLVE | BUFFER_USAGE.COPY_SRC }),
        read: device.createBuffer({ size: 16, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST }),
      }
    : null;

  /** One batch: ms for all `count` operations (GPU time where `timed` and the adapter has timestamps). */
  async function batch(encode: EncodeBatch, count: number, timed: boolean): Promise<number> {
    const encoder = device.createCommandEncoder();
    const useStamps = timed && stamps !== null;
    encode(encoder, count, useStamps ? { querySet: stamps.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } : undefined);
    if (useStamps) {
      encoder.resolveQuerySet(stamps.querySet, 0, 2, stamps.resolve, 0);
      encoder.copyBufferToBuffer(stamps.resolve, 0, stamps.read, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    if (!useStamps) return wall;
    await stamps.read.mapAsync(MAP_MODE_READ);
    const ns = new BigInt64Array(stamps.read.getMappedRange().slice(0));
    stamps.read.unmap();
    const gpuMs = Number(ns[1] - ns[0]) / 1e6;
    return gpuMs > 0 ? gpuMs : wall; // a zero or wrapped stamp pair: the wall time is the better figure
  }

  /** Grows the batch to about TARGET_MS, then the median over `runs` batches, per operation. */
  async function measure(encode: EncodeBatch, timed: boolean, onceMs?: number): Promise<number> {
    let count = 1;
    let ms = onceMs ?? (await batch(encode, count, timed));
    for (let i = 0; i < 4 && ms < TARGET_MS / 2 && count < MAX_BATCH; i++) {
      count = Math.min(MAX_BATCH, Math.ceil((count * TARGET_MS) / Math.max(ms, 0.001)));
      ms = await batch(encode, count, timed);
    }
    // The batch that ended the growth is the first run; a batch of one dispatch that is slow
    // (SwiftShader only) is run as often as fits in SLOW_MS, at least once.
    const perOp = [ms / count];
    const total = Math.max(1, Math.min(runs, Math.floor(SLOW_MS / ms)));
    for (let r = 1; r < total; r++) perOp.push((await batch(encode, count, timed)) / count);
    return median(perOp);
  }

  return {
    method: stamps
      ? `GPU timestamps of one compute pass of N back-to-back dispatches (N: the pass lasts ~${TARGET_MS} ms), / N; median of ${runs} passes (fewer when they would take over ${SLOW_MS / 1000} s). Copies: wall time`
      : `wall time of N back-to-back dispatches in one submit to onSubmittedWorkDone (N: ~${TARGET_MS} ms), / N; median of ${runs} (fewer when they would take over ${SLOW_MS / 1000} s)`,
    async once(op, rows) {
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      const ms = await batch(kernelBatch([op], rows), 1, true);
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      const error = validation ?? oom;
      if (error) throw new Error(`${dispatchesOf(op).map((d) => d.label).join(' + ')}: ${error.message}`);
      return ms;
    },
    kernel: (ops, rows, onceMs) => measure(kernelBatch(ops, rows), true, onceMs),
    async copy(source, target, bytes) {
      const encode: EncodeBatch = (encoder, count) => {
        for (let i = 0; i < count; i++) encoder.copyBufferToBuffer(source, 0, target, 0, bytes);
      };
      await batch(encode, 1, false); // untimed: the target's first touch (page faults on a CPU adapter)
      return measure(encode, false);
    },
    destroy() {
      if (!stamps) return;
      stamps.querySet.destroy();
      stamps.resolve.destroy();
      stamps.read.destroy();
    },
  };
}

/** One printed row: a kernel at one shape, variant and workgroup size. */
export interface KernelRow {
  section: string;
  name: string; // kernel and shape
  variant: string;
  wg: number;
  check: Check;
  ms: number; // median per dispatch; NaN when the check failed (not timed)
  bytes: number; // moved per dispatch, from the shapes
  gbps: number; // bytes / ms
  ofPeak: number; // gbps / the adapter's peak measured in the same run
  best: boolean; // the fastest workgroup size of its (name, variant)
}

const NAME = 46;
export const rowHeader = (first: string): string =>
  `${first.padEnd(NAME)} ${'wg'.padStart(4)}  ${'check (max err)'.padEnd(16)} ${'ms'.padStart(10)} ${'MB'.padStart(9)} ${'GB/s'.padStart(9)} ${'of peak'.padStart(8)}`;

export function formatRow(r: KernelRow): string {
  const name = `${r.name}${r.variant ? ` ${r.variant}` : ''}`;
  const head = `${name.padEnd(NAME)} ${(r.wg ? String(r.wg) : '-').padStart(4)}  ${r.check.text.padEnd(16)}`;
  if (!r.check.ok) return head;
  const ms = r.ms >= 1 ? r.ms.toFixed(3) : r.ms.toPrecision(3);
  const pct = 100 * r.ofPeak;
  const peak = Number.isFinite(pct) ? `${pct >= 1 ? pct.toFixed(1) : pct.toPrecision(2)}%` : '-';
  return `${head} ${ms.padStart(10)} ${(r.bytes / 1e6).toFixed(2).padStart(9)} ${(r.gbps >= 1 ? r.gbps.toFixed(2) : r.gbps.toPrecision(3)).padStart(9)} ${peak.padStart(8)}${r.best ? '  * best wg' : ''}`;
}

/** Marks the fastest checked row of each (name, variant) group. */
export function markBest(rows: KernelRow[]): void {
  const best = new Map<string, KernelRow>();
  for (const r of rows) {
    if (!r.check.ok) continue;
    const key = `${r.name}|${r.variant}`;
    const b = best.get(key);
    if (!b || r.ms < b.ms) best.set(key, r);
  }
  for (const r of best.values()) r.best = true;
}

/** Fast seeded u32s (xorshift32) for filling large buffers, where the engine's rng would take seconds. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** One (variant, workgroup size) of a case: its operations, one per input copy. */
export interface Candidate {
  variant: string;
  wg: number;
  build(): Op[];
}

export interface SweepCase {
  section: string;
  name: string;
  bytes: number; // moved per dispatch
  rows: number; // the step's rows (the dispatch grid)
  /** Before the checked run: fresh inputs (a kernel that updates state in place) and garbage outputs (a kernel that writes nothing fails). */
  reset(): void;
  /** After the checked run of the first dispatch: its outputs against the CPU reference. */
  verify(): Promise<Check>;
  candidates: Candidate[];
}

/**
 * Checks, then times, every candidate of a case; a candidate that fails its check (or throws) is
 * not timed. Returns the rows with the fastest workgroup size of each variant marked.
 */
export async function sweep(timer: Timer, c: SweepCase, peak: number): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const cand of c.candidates) {
    let check: Check;
    let ms = NaN;
    try {
      const ops = cand.build();
      c.reset();
      const onceMs = await timer.once(ops[0], c.rows);
      check = await c.verify();
      if (check.ok) ms = await timer.kernel(ops, c.rows, onceMs);
    } catch (e) {
      check = { ok: false, maxErr: Infinity, text: `ERROR ${e instanceof Error ? e.message : String(e)}` };
    }
    const gbps = c.bytes / ms / 1e6;
    rows.push({ section: c.section, name: c.name, variant: cand.variant, wg: cand.wg, check, ms, bytes: c.bytes, gbps, ofPeak: gbps / peak, best: false });
  }
  markBest(rows);
  return rows;
}
