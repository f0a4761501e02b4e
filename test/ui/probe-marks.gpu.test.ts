import { describe, expect, test } from 'vitest';
import type { Step } from '../../src/engine/interface.ts';
import { createProbeMarksView, probeByPosition, probeTiers } from '../../src/ui/probe-marks.ts';

// The page's live view of what the answer-first probe marks (a DOM test: the browser project).
// Tiers follow the answer-first map's: the top 30% by score CrystalKV, the bottom 30% SlipKV.

test('tiers by rank: top and bottom 30%, ties to the older position', () => {
  expect(probeTiers([0.5, 0.1, 0.9, 0.3, 0.2, 0.8, 0.05, 0.4, 0.6, 0.7])).toEqual([
    'middle', 'slip', 'crystal', 'middle', 'slip', 'crystal', 'slip', 'middle', 'middle', 'crystal',
  ]);
  expect(probeTiers([1, 1, 1, 0])).toEqual(['crystal', 'middle', 'middle', 'slip']); // round(1.2) = 1 each side
  expect(probeTiers([])).toEqual([]);
});

test('a position takes the most any KV head of the layer gives it', () => {
  const best = probeByPosition({
    layer: 1,
    positions: [Int32Array.from([3, 4, 5]), Int32Array.from([4, 6])],
    attention: [new Float32Array(3), new Float32Array(2)],
    probe: [Float32Array.from([0.1, 0.2, 0.3]), Float32Array.from([0.5, 0.05])],
  });
  expect([...best.entries()].sort((a, b) => a[0] - b[0])).toEqual([[3, Math.fround(0.1)], [4, 0.5], [5, Math.fround(0.3)], [6, Math.fround(0.05)]]);
});

describe('the live view', () => {
  const step = (position: number, text: string, scores?: Record<number, number>): Step => ({
    index: position - 10,
    token: 0,
    text,
    phase: 'think',
    stepMs: 1,
    position,
    cache: scores && {
      counts: new Int32Array(1),
      limits: new Int32Array(1),
      heldBytes: 0,
      fullBytes: 0,
      evicted: new Int32Array(0),
      watched: {
        layer: 2,
        positions: [Int32Array.from(Object.keys(scores).map(Number))],
        attention: [new Float32Array(Object.keys(scores).length)],
        probe: [Float32Array.from(Object.values(scores))],
      },
    },
  });
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  test('marks the think tokens as the steps arrive, as text, and forgets them on reset', async () => {
    const root = document.createElement('div');
    const view = createProbeMarksView(root);
    view.add(step(10, '<b>'));
    for (let p = 11; p < 20; p++) view.add(step(p, `t${p}`));
    // Position 19's step: the probe has marked 12 and 15 most, 11 and 18 least; 13 is no longer held.
    view.add(step(20, 'x', { 10: 0.2, 11: 0.01, 12: 0.9, 14: 0.3, 15: 0.8, 16: 0.25, 17: 0.4, 18: 0.02, 19: 0.3, 20: 0 }));
    await frame();
    const spans = [...root.querySelectorAll('pre span')] as HTMLElement[];
    expect(spans.map((s) => s.textContent)).toEqual(['<b>', ...Array.from({ length: 9 }, (_, i) => `t${11 + i}`), 'x']);
    expect(root.querySelector('b')).toBeNull(); // model text is text, never markup
    const cls = (p: number) => spans[p - 10].className;
    expect([12, 15, 17].map(cls)).toEqual(['tier-crystal', 'tier-crystal', 'tier-crystal']);
    expect([11, 18, 20].map(cls)).toEqual(['tier-slip', 'tier-slip', 'tier-slip']);
    expect(cls(13)).toBe('evicted');
    expect(root.dataset.marked).toBe('3');
    view.reset();
    expect(root.textContent).toBe('');
    expect(root.dataset.marked).toBeUndefined();
  });

  test('a policy without the probe leaves it empty', async () => {
    const root = document.createElement('div');
    const view = createProbeMarksView(root);
    view.add(step(10, 'a'));
    const plain = step(11, 'b', { 10: 0 });
    delete plain.cache!.watched!.probe;
    view.add(plain);
    await frame();
    expect(root.textContent).toBe('');
  });
});
