/**
 * What the answer-first probe marks as CrystalKV while the model thinks (policies/probe.ts): the
 * think text token by token, each position shaded by its tier among the watched layer's held
 * entries, ranked by probe score (the most any KV head's probe rows paid it, decayed): the top
 * 30% CrystalKV, the bottom 30% SlipKV, the tiers of the finished run's answer-first map. Drawn
 * from each step's watched layer as the steps arrive, once per animation frame. Text only.
 */
import { TIER_SHARE, type Step } from '../engine/interface.ts';

export type Tier = 'crystal' | 'middle' | 'slip';

/** Tiers by rank: the top TIER_SHARE of the scores are CrystalKV, the bottom TIER_SHARE SlipKV (ties by position: the older ranks higher). */
export function probeTiers(scores: ArrayLike<number>): Tier[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const k = Math.round(TIER_SHARE * n);
  const tiers: Tier[] = new Array(n).fill('middle');
  order.slice(0, k).forEach((i) => (tiers[i] = 'crystal'));
  order.slice(n - k).forEach((i) => (tiers[i] = 'slip'));
  return tiers;
}

/** Per held position of the watched layer: the most probe score any of its KV heads gives it. */
export function probeByPosition(watched: NonNullable<Step['cache']>['watched']): Map<number, number> {
  const best = new Map<number, number>();
  if (!watched?.probe) return best;
  watched.positions.forEach((positions, h) => {
    positions.forEach((p, i) => best.set(p, Math.max(best.get(p) ?? 0, watched.probe![h][i])));
  });
  return best;
}

export interface ProbeMarksView {
  reset(): void;
  add(step: Step): void;
}

export function createProbeMarksView(root: HTMLElement): ProbeMarksView {
  let texts: string[] = [];
  let thinkStart = -1; // the first think position
  let latest: Map<number, number> | null = null; // the last step's probe score per held position
  let latestLayer = 0;
  let scheduled = false;

  function draw() {
    scheduled = false;
    root.textContent = '';
    if (!latest || thinkStart < 0) return;
    const held = [...latest.keys()].filter((p) => p >= thinkStart).sort((a, b) => a - b);
    const tiers = probeTiers(held.map((p) => latest!.get(p)!));
    const tierOf = new Map(held.map((p, i) => [p, tiers[i]]));
    const map = document.createElement('pre');
    map.className = 'token-map';
    for (let p = thinkStart; p < texts.length; p++) {
      const span = document.createElement('span');
      span.textContent = texts[p] ?? ''; // as text: model output may hold markup
      const tier = tierOf.get(p);
      span.className = tier ? `tier-${tier}` : 'evicted';
      span.title = tier ? `position ${p}: probe score ${latest.get(p)!.toExponential(2)} (${tier})` : `position ${p}: not held`;
      map.append(span);
    }
    const marked = tiers.filter((t) => t === 'crystal').length;
    const summary = document.createElement('p');
    summary.className = 'status';
    summary.textContent = `The probe marks ${marked} of ${held.length} held think entries as CrystalKV (layer ${latestLayer}, top 30% by probe score).`;
    root.dataset.marked = String(marked);
    root.append(summary, map);
  }

  return {
    reset() {
      texts = [];
      thinkStart = -1;
      latest = null;
      root.textContent = '';
      delete root.dataset.marked;
    },
    add(step) {
      texts[step.position] = step.text;
      if (step.phase === 'think' && thinkStart < 0) thinkStart = step.position;
      const watched = step.cache?.watched;
      if (!watched?.probe) return;
      latest = probeByPosition(watched);
      latestLayer = watched.layer;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(draw);
      }
    },
  };
}
