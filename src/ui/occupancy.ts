/**
 * The live occupancy grid: one cell per (layer, KV head) with the entries it holds against its
 * limit, and the KV bytes held against what the full cache would hold. Snapshots arrive with
 * every token; the DOM is touched at most once per animation frame, with the latest one.
 */
import type { CacheSnapshot } from '../engine/interface.ts';

export interface OccupancyView {
  reset(layers: number, kvHeads: number): void;
  update(snapshot: CacheSnapshot): void;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(3)} MiB`;

export function createOccupancyView(grid: HTMLElement, summary: HTMLElement): OccupancyView {
  let cells: { root: HTMLElement; fill: HTMLElement; limit: HTMLElement; label: HTMLElement }[] = [];
  let latest: CacheSnapshot | null = null;
  let scheduled = false;
  let previousLimits: Int32Array | null = null;
  let scale = 1; // entries a full-width track stands for: the largest limit seen so far
  let moves = 0; // limits that changed (crystal's re-divisions)

  function render() {
    scheduled = false;
    const s = latest;
    if (!s) return;
    for (let i = 0; i < s.limits.length; i++) scale = Math.max(scale, s.limits[i]);
    let over = 0;
    let maxFill = 0;
    cells.forEach((cell, i) => {
      const count = s.counts[i];
      const limit = s.limits[i];
      if (count > limit) over++;
      maxFill = Math.max(maxFill, count / limit);
      cell.fill.style.width = `${(100 * count) / scale}%`;
      cell.limit.style.left = `${(100 * limit) / scale}%`;
      cell.label.textContent = `${count} / ${limit}`;
      cell.root.classList.toggle('at-limit', count >= limit);
      const moved = previousLimits !== null && previousLimits[i] !== limit;
      if (moved) {
        moves++;
        cell.root.classList.remove('moved');
        void cell.root.offsetWidth; // restart the highlight
        cell.root.classList.add('moved');
      }
    });
    previousLimits = s.limits.slice();
    const held = s.heldBytes;
    const ratio = s.fullBytes > 0 ? held / s.fullBytes : 1;
    summary.textContent =
      `KV held ${mib(held)} against ${mib(s.fullBytes)} for the full cache (${(100 * ratio).toFixed(0)}%)` +
      (over > 0 ? `, ${over} heads over their limit` : '');
    grid.dataset.maxFill = String(maxFill);
    grid.dataset.over = String(over);
    grid.dataset.moves = String(moves);
  }

  return {
    reset(layers, kvHeads) {
      grid.textContent = '';
      summary.textContent = '';
      cells = [];
      latest = null;
      previousLimits = null;
      scale = 1;
      moves = 0;
      grid.style.gridTemplateColumns = `auto repeat(${kvHeads}, 1fr)`;
      grid.append(Object.assign(document.createElement('span'), { textContent: '' }));
      for (let h = 0; h < kvHeads; h++) grid.append(Object.assign(document.createElement('span'), { className: 'axis', textContent: `KV head ${h}` }));
      for (let l = 0; l < layers; l++) {
        grid.append(Object.assign(document.createElement('span'), { className: 'axis', textContent: `layer ${l}` }));
        for (let h = 0; h < kvHeads; h++) {
          const root = document.createElement('div');
          root.className = 'cell';
          root.setAttribute('role', 'img');
          const track = document.createElement('div');
          track.className = 'track';
          const fill = document.createElement('div');
          fill.className = 'fill';
          const limit = document.createElement('div');
          limit.className = 'limit';
          track.append(fill, limit);
          const label = document.createElement('span');
          label.className = 'count';
          root.append(track, label);
          root.setAttribute('aria-label', `layer ${l}, KV head ${h}`);
          grid.append(root);
          cells.push({ root, fill, limit, label });
        }
      }
    },
    update(snapshot) {
      latest = snapshot;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(render);
      }
    },
  };
}
