/** The evaluation's Markdown tables and SVG chart (accuracy and think length vs budget, per policy). */
import type { EvalSummary } from './score.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

export function markdownReport(summaries: EvalSummary[], header: string): string {
  const lines = [header, ''];
  for (const mode of ['all', 'think'] as const) {
    const rows = summaries.filter((s) => s.mode === mode);
    if (rows.length === 0) continue;
    const budgets = [...new Set(rows.map((s) => s.budget!))].sort((a, b) => a - b);
    const policies = [...new Set(rows.map((s) => s.policy))];
    lines.push(`### Budget mode \`${mode}\`: accuracy (mean think tokens, share closing </think>)`, '');
    lines.push(`| policy | ${budgets.map((b) => `B=${b}`).join(' | ')} |`, `|---|${budgets.map(() => '---').join('|')}|`);
    for (const p of policies) {
      const cells = budgets.map((b) => {
        const s = rows.find((r) => r.policy === p && r.budget === b);
        return s ? `${pct(s.accuracy)} (${s.meanThinkTokens.toFixed(0)}, ${pct(s.closedThinkShare)})` : '';
      });
      lines.push(`| ${p} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  const full = summaries.find((s) => s.mode === 'none');
  if (full) lines.push(`Full cache: ${pct(full.accuracy)} (think ${full.meanThinkTokens.toFixed(1)} tokens).`, '');
  return lines.join('\n');
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Four panels: accuracy and think length against budget, for each budget mode. */
export function svgChart(summaries: EvalSummary[], title: string): string {
  const W = 460;
  const H = 300;
  const pad = 48;
  const panels: string[] = [];
  const policies = [...new Set(summaries.filter((s) => s.mode !== 'none').map((s) => s.policy))];
  const modes = (['all', 'think'] as const).filter((m) => summaries.some((s) => s.mode === m));
  const metrics = [
    { key: 'accuracy' as const, label: 'accuracy', max: 1, fmt: (v: number) => `${Math.round(v * 100)}%` },
    { key: 'meanThinkTokens' as const, label: 'mean think tokens', max: Math.max(1, ...summaries.map((s) => s.meanThinkTokens)) * 1.1, fmt: (v: number) => v.toFixed(0) },
  ];
  modes.forEach((mode, mi) => {
    metrics.forEach((m, ki) => {
      const ox = ki * W;
      const oy = 30 + mi * H;
      const rows = summaries.filter((s) => s.mode === mode);
      const budgets = [...new Set(rows.map((s) => s.budget!))].sort((a, b) => a - b);
      const x = (b: number) => ox + pad + ((b - budgets[0]) / Math.max(1, budgets[budgets.length - 1] - budgets[0])) * (W - 2 * pad);
      const y = (v: number) => oy + H - pad - (v / m.max) * (H - 2 * pad);
      const parts = [
        `<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-size="13">${m.label} vs ${mode} budget</text>`,
        `<line x1="${ox + pad}" y1="${y(0)}" x2="${ox + W - pad}" y2="${y(0)}" stroke="#888"/>`,
        `<line x1="${ox + pad}" y1="${y(0)}" x2="${ox + pad}" y2="${y(m.max)}" stroke="#888"/>`,
        ...budgets.map((b) => `<text x="${x(b)}" y="${y(0) + 16}" text-anchor="middle" font-size="11">${b}</text>`),
        ...[0, 0.5, 1].map((f) => `<text x="${ox + pad - 6}" y="${y(f * m.max) + 4}" text-anchor="end" font-size="11">${m.fmt(f * m.max)}</text>`),
      ];
      policies.forEach((p, pi) => {
        const pts = budgets
          .map((b) => rows.find((r) => r.policy === p && r.budget === b))
          .filter((s): s is EvalSummary => !!s)
          .map((s) => `${x(s.budget!).toFixed(1)},${y(s[m.key]).toFixed(1)}`);
        if (pts.length) parts.push(`<polyline fill="none" stroke="${COLORS[pi % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`);
      });
      panels.push(parts.join('\n'));
    });
  });
  const legend = policies
    .map((p, i) => `<text x="${10 + i * 95}" y="${30 + modes.length * H + 10}" font-size="12" fill="${COLORS[i % COLORS.length]}">■ ${p}</text>`)
    .join('\n');
  const escaped = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${50 + modes.length * H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14">${escaped}</text>
${panels.join('\n')}
${legend}
</svg>
`;
}
