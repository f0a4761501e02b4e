/**
 * The attention heatmap of one KV head of the watched layer: token positions across, decode steps
 * down. A held entry is coloured by the attention it received from that step's query (log scale,
 * 1e-4 to 1); an evicted entry is red on the step it went and pale red after; positions not yet
 * written stay blank. With the answer-first probe, the entries the probe marks as CrystalKV at that
 * step (the top 30% of the head's entries by probe score) are gold instead of blue. Rows are painted into an offscreen image as steps arrive and drawn scaled
 * to the canvas once per animation frame. Pointing at a cell names the token (as text), its
 * position, the attention and when it was evicted.
 */
import type { Step, WatchedAttention } from '../engine/interface.ts';
import { probeTiers } from './probe-marks.ts';

export interface Heatmap {
  /** A new generation: at most `positions` positions and `steps` steps. */
  reset(positions: number, steps: number): void;
  add(step: Step): void;
  /** Shows another KV head of the watched layer (repaints every row). */
  setHead(kvHead: number): void;
}

interface Row {
  query: number; // the position of the query that produced the step's token
  watched: WatchedAttention;
}

const BLANK = [246, 247, 249];
const LOW = [226, 231, 240];
const HIGH = [22, 58, 168];
const MARKED_LOW = [250, 232, 176];
const MARKED_HIGH = [176, 112, 0];
const EVICTED_NOW = [214, 40, 40];
const EVICTED = [244, 200, 200];

export function createHeatmap(canvas: HTMLCanvasElement, tooltip: HTMLElement): Heatmap {
  const context = canvas.getContext('2d')!;
  let image = new ImageData(1, 1);
  let rows: Row[] = [];
  let pieces: string[] = [];
  let evictedAt: Map<number, number>[] = []; // per KV head: position -> step it was evicted
  let head = 0;
  let usedWidth = 1;
  let scheduled = false;
  const offscreen = document.createElement('canvas');

  function paint(color: number[], x: number, y: number) {
    const i = 4 * (y * image.width + x);
    image.data[i] = color[0];
    image.data[i + 1] = color[1];
    image.data[i + 2] = color[2];
    image.data[i + 3] = 255;
  }

  function paintRow(k: number) {
    const row = rows[k];
    const gone = evictedAt[head] ?? new Map<number, number>();
    for (let p = 0; p < image.width; p++) {
      const e = gone.get(p);
      paint(p > row.query ? BLANK : e === undefined || e > k ? LOW : e === k ? EVICTED_NOW : EVICTED, p, k);
    }
    const positions = row.watched.positions[head];
    const attention = row.watched.attention[head];
    const tiers = row.watched.probe ? probeTiers(row.watched.probe[head]) : null;
    for (let i = 0; i < positions.length; i++) {
      const t = Math.min(1, Math.max(0, (Math.log10(Math.max(attention[i], 1e-12)) + 4) / 4));
      const [lo, hi] = tiers?.[i] === 'crystal' ? [MARKED_LOW, MARKED_HIGH] : [LOW, HIGH];
      paint(lo.map((l, c) => Math.round(l + t * (hi[c] - l))), positions[i], k);
    }
  }

  function draw() {
    scheduled = false;
    offscreen.width = image.width;
    offscreen.height = image.height;
    offscreen.getContext('2d')!.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.fillStyle = `rgb(${BLANK.join(',')})`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (rows.length > 0) context.drawImage(offscreen, 0, 0, usedWidth, rows.length, 0, 0, canvas.width, canvas.height);
    canvas.dataset.steps = String(rows.length);
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function describe(event: MouseEvent): string {
    const box = canvas.getBoundingClientRect();
    const p = Math.floor(((event.clientX - box.left) / box.width) * usedWidth);
    const k = Math.floor(((event.clientY - box.top) / box.height) * rows.length);
    const row = rows[k];
    if (!row || p < 0 || p >= usedWidth) return '';
    const piece = JSON.stringify(pieces[p] ?? '');
    const e = evictedAt[head]?.get(p);
    const where = `position ${p} ${piece}, step ${k}`;
    if (p > row.query) return `${where}: not written yet`;
    const i = row.watched.positions[head].indexOf(p);
    const probe = row.watched.probe;
    const mark = i >= 0 && probe ? `, probe score ${probe[head][i].toExponential(2)} (${probeTiers(probe[head])[i]})` : '';
    const score = i >= 0 ? `attention ${row.watched.attention[head][i].toExponential(2)}${mark}` : 'not held';
    const fate = e === undefined ? 'never evicted' : `evicted at step ${e}`;
    return `${where}: ${score}, ${fate}`;
  }

  canvas.addEventListener('mousemove', (event) => {
    tooltip.textContent = describe(event); // text only: the token may hold markup
    tooltip.hidden = tooltip.textContent === '';
  });
  canvas.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
  });

  return {
    reset(positions, steps) {
      image = new ImageData(Math.max(1, positions), Math.max(1, steps));
      rows = [];
      pieces = [];
      evictedAt = [];
      usedWidth = 1;
      tooltip.hidden = true;
      schedule();
    },
    add(step) {
      const c = step.cache;
      if (!c?.watched || rows.length >= image.height) return;
      if (c.promptPieces) pieces = [...c.promptPieces];
      pieces[step.position] = step.text;
      const layer = c.watched.layer;
      for (let e = 0; e < c.evicted.length; e += 3) {
        if (c.evicted[e] !== layer) continue;
        const h = c.evicted[e + 1];
        (evictedAt[h] ??= new Map()).set(c.evicted[e + 2], rows.length);
      }
      rows.push({ query: step.position - 1, watched: c.watched });
      usedWidth = Math.min(image.width, Math.max(usedWidth, step.position));
      paintRow(rows.length - 1);
      schedule();
    },
    setHead(kvHead) {
      head = kvHead;
      for (let k = 0; k < rows.length; k++) paintRow(k);
      schedule();
    },
  };
}
