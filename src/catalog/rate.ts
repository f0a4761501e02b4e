/**
 * Download rate over a recent window, and the time left at that rate. A window (not the mean
 * since the start) follows a connection that speeds up or stalls; bytes served from the cache
 * are never added, so resuming a download does not show a burst of imaginary speed.
 */

export interface RateMeter {
  /** `bytes` arrived from the network at time `now` (ms). */
  add(bytes: number, now: number): void;
  /** Bytes per second over the last window; 0 before anything arrived. */
  rate(now: number): number;
}

export function createRateMeter(windowMs = 5000): RateMeter {
  const samples: { t: number; bytes: number }[] = [];
  let sum = 0;
  let started: number | null = null;
  const drop = (now: number) => {
    while (samples.length > 0 && samples[0].t <= now - windowMs) sum -= samples.shift()!.bytes;
  };
  return {
    add(bytes, now) {
      started ??= now;
      samples.push({ t: now, bytes });
      sum += bytes;
      drop(now);
    },
    rate(now) {
      if (started === null) return 0;
      drop(now);
      // Over the window, or over the time since the first byte while that is shorter; at least
      // a quarter second, so that the very first chunk does not read as a huge rate.
      const span = Math.max(250, Math.min(windowMs, now - started));
      return (sum * 1000) / span;
    },
  };
}

/** Seconds until `remaining` bytes arrive at `rate` bytes/s; null while the rate is unknown. */
export function secondsLeft(remaining: number, rate: number): number | null {
  if (remaining <= 0) return 0;
  return rate > 0 ? remaining / rate : null;
}

/** "2 h 5 min", "3 min 20 s", "45 s", or "…" while unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '…';
  const s = Math.ceil(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
