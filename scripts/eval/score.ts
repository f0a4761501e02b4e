/** Evaluation data: prompts, configurations (policy x budget x mode), outcomes and summaries. */
export interface EvalItem {
  prompt: string;
  answer: string;
}

export interface EvalConfig {
  policy: string;
  /** The name results are shown under: the policy, with its parameters in a sweep. */
  series?: string;
  mode: 'all' | 'think' | 'none';
  budget: number | null; // null: full cache
  params?: Record<string, number>;
  label: string;
}

/** One prompt: the worker runs every config on it. */
export interface EvalJob {
  item: number;
}

export interface EvalOutcome extends EvalJob {
  config: number;
  correct: boolean;
  answer: string;
  thinkTokens: number;
  closedThink: boolean;
  generatedTokens: number;
  /** What a research policy reports about its run (EvictionPolicy.report): counts by name. */
  report?: Record<string, number>;
}

export interface EvalSummary {
  label: string;
  policy: string; // the series name
  mode: string;
  budget: number | null;
  params?: Record<string, number>;
  prompts: number;
  accuracy: number;
  meanThinkTokens: number;
  closedThinkShare: number;
  /** The outcomes' reports summed (research policies). */
  report?: Record<string, number>;
}

export function parseEvalJsonl(text: string): EvalItem[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const row = JSON.parse(line);
      if (typeof row.prompt !== 'string' || typeof row.answer !== 'string') {
        throw new Error(`eval.jsonl line ${i + 1} needs string fields "prompt" and "answer"`);
      }
      return { prompt: row.prompt, answer: row.answer };
    });
}

export function summarise(configs: EvalConfig[], outcomes: EvalOutcome[]): EvalSummary[] {
  return configs.map((c, i) => {
    const mine = outcomes.filter((o) => o.config === i);
    const n = mine.length;
    return {
      label: c.label,
      policy: c.series ?? c.policy,
      mode: c.mode,
      budget: c.budget,
      params: c.params,
      prompts: n,
      accuracy: mine.filter((o) => o.correct).length / n,
      meanThinkTokens: mine.reduce((s, o) => s + o.thinkTokens, 0) / n,
      closedThinkShare: mine.filter((o) => o.closedThink).length / n,
      report: sumReports(mine),
    };
  });
}

/** The reports of some outcomes summed by name; undefined when none reported. */
function sumReports(outcomes: EvalOutcome[]): Record<string, number> | undefined {
  const with_ = outcomes.filter((o) => o.report);
  if (with_.length === 0) return undefined;
  const total: Record<string, number> = {};
  for (const o of with_) for (const [k, v] of Object.entries(o.report!)) total[k] = (total[k] ?? 0) + v;
  return total;
}
