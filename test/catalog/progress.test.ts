// The download's progress arithmetic: the rate over a window, the time left, and the tally whose
// total never shrinks and whose last event has loaded = total.
import { describe, expect, test } from 'vitest';
import { createProgressTally, type DownloadProgress } from '../../src/catalog/progress.ts';
import { createRateMeter, formatDuration, secondsLeft } from '../../src/catalog/rate.ts';

describe('rate', () => {
  test('bytes per second over the last window only', () => {
    const m = createRateMeter(1000);
    expect(m.rate(0)).toBe(0);
    for (let t = 0; t <= 1000; t += 100) m.add(1000, t); // 10 kB/s
    expect(m.rate(1000)).toBeCloseTo(10_000, -2);
    // The connection stalls: the rate falls to 0 once the window has passed.
    expect(m.rate(1500)).toBeLessThan(6000);
    expect(m.rate(2100)).toBe(0);
  });

  test('the first chunk does not read as a huge rate', () => {
    const m = createRateMeter(5000);
    m.add(1e6, 0);
    expect(m.rate(1)).toBeLessThanOrEqual(4e6);
  });

  test('time left', () => {
    expect(secondsLeft(1000, 100)).toBe(10);
    expect(secondsLeft(1000, 0)).toBeNull();
    expect(secondsLeft(0, 0)).toBe(0);
    expect(formatDuration(null)).toBe('…');
    expect(formatDuration(45.2)).toBe('46 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(7500)).toBe('2 h 5 min');
  });
});

describe('tally', () => {
  test('cached files count as done, sizes learned late only grow the total, the end is exact', () => {
    const events: DownloadProgress[] = [];
    let clock = 0;
    const tally = createProgressTally('https://x/', (p) => events.push(p), 0, () => clock);
    const cached = tally.add('a.bin', 100);
    const shard = tally.add('b.bin', 300);
    const tokenizer = tally.add('tokenizer.json', null);
    const optional = tally.add('tokenizer_config.json', null);
    tally.finish(cached, 100);
    tally.drop(optional);
    tokenizer.expected = 50; // its Content-Length
    for (let i = 0; i < 5; i++) {
      clock += 10;
      tally.bytes(tokenizer, 10);
    }
    tally.finish(tokenizer);
    for (let i = 0; i < 3; i++) {
      clock += 10;
      tally.bytes(shard, 100);
    }
    tally.finish(shard);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
      expect(events[i].total).toBeGreaterThanOrEqual(events[i - 1].total);
    }
    const last = events[events.length - 1];
    expect(last.loaded).toBe(450);
    expect(last.total).toBe(450);
    expect(last.filesDone).toBe(3);
    expect(last.filesTotal).toBe(3);
    expect(last.secondsLeft).toBe(0);
    // Only network bytes make the rate: 350 bytes in 80 ms, not the 100 cached ones.
    expect(last.rate).toBeGreaterThan(0);
    expect(last.rate).toBeLessThanOrEqual((350 * 1000) / 250);
  });

  test('events are throttled while bytes stream', () => {
    const events: DownloadProgress[] = [];
    let clock = 0;
    const tally = createProgressTally('https://x/', (p) => events.push(p), 100, () => clock);
    const f = tally.add('a.bin', 1000);
    for (let i = 0; i < 100; i++) {
      clock += 5;
      tally.bytes(f, 10);
    }
    expect(events.length).toBeLessThanOrEqual(6);
    tally.finish(f);
    expect(events[events.length - 1].loaded).toBe(1000);
  });
});
