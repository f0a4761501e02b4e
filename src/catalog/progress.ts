/**
 * The bookkeeping behind a download's progress bar: every file of the model with the bytes it
 * should have and the bytes it has, and throttled events for the page. The total is the sum
 * over files of max(expected, loaded): a shard's size is known from tensor-cache.json, a small
 * file's from its Content-Length once the response arrives (or from its bytes as they come), so
 * `total` never shrinks, `loaded` never goes back, and the last event has loaded = total.
 * Files already cached count as done at once but add nothing to the rate.
 */
import { createRateMeter, secondsLeft } from './rate.ts';

export interface DownloadProgress {
  /** The model folder. */
  url: string;
  /** The file that last received bytes (or was found in the cache). */
  file: string;
  /** Bytes done, cached files included. */
  loaded: number;
  total: number;
  /** Bytes per second from the network over the last seconds. */
  rate: number;
  /** At that rate; null while unknown. */
  secondsLeft: number | null;
  filesDone: number;
  filesTotal: number;
}

export interface FileProgress {
  file: string;
  /** Bytes the file should have; null until known. */
  expected: number | null;
  loaded: number;
  done: boolean;
}

export interface ProgressTally {
  add(file: string, expected: number | null): FileProgress;
  /** Bytes of `f` arrived from the network. */
  bytes(f: FileProgress, n: number): void;
  /** `f` is complete, from the network or found in the cache with `size` bytes. */
  finish(f: FileProgress, size?: number): void;
  /** `f` turned out absent (an optional file): it counts for nothing. */
  drop(f: FileProgress): void;
  /** Sends an event now (otherwise at most one per interval). */
  emit(): void;
  readonly loaded: number;
  readonly total: number;
}

export function createProgressTally(
  url: string,
  onProgress: ((p: DownloadProgress) => void) | undefined,
  intervalMs = 100,
  now: () => number = () => performance.now(),
): ProgressTally {
  const files: FileProgress[] = [];
  const meter = createRateMeter();
  let lastFile = '';
  let lastEmit = -Infinity;
  const loaded = () => files.reduce((s, f) => s + f.loaded, 0);
  const total = () => files.reduce((s, f) => s + Math.max(f.expected ?? 0, f.loaded), 0);

  const emit = () => {
    if (!onProgress) return;
    const t = now();
    lastEmit = t;
    const [l, tot] = [loaded(), total()];
    const rate = meter.rate(t);
    onProgress({
      url,
      file: lastFile,
      loaded: l,
      total: tot,
      rate,
      secondsLeft: secondsLeft(tot - l, rate),
      filesDone: files.filter((f) => f.done).length,
      filesTotal: files.length,
    });
  };

  return {
    add(file, expected) {
      const f: FileProgress = { file, expected, loaded: 0, done: false };
      files.push(f);
      return f;
    },
    bytes(f, n) {
      f.loaded += n;
      lastFile = f.file;
      const t = now();
      meter.add(n, t);
      if (t - lastEmit >= intervalMs) emit();
    },
    finish(f, size) {
      if (size !== undefined) f.loaded = size;
      f.expected = Math.max(f.expected ?? 0, f.loaded);
      f.done = true;
      lastFile = f.file;
      emit();
    },
    drop(f) {
      files.splice(files.indexOf(f), 1);
    },
    emit,
    get loaded() {
      return loaded();
    },
    get total() {
      return total();
    },
  };
}
