/** What the page lists for each registered policy: its id, paper (with a link) and one line. */
import { createPolicy, USER_POLICY_IDS } from '../policies/registry.ts';

export interface PolicyInfo {
  id: string;
  paper: string;
  /** The paper's arXiv page, when it has one. */
  url: string | null;
  summary: string;
}

export const POLICY_CATALOG: readonly PolicyInfo[] = USER_POLICY_IDS.map((id) => {
  const p = createPolicy(id);
  const arxiv = /arXiv (\d{4}\.\d{4,5})/.exec(p.paper);
  return { id, paper: p.paper, url: arxiv ? `https://arxiv.org/abs/${arxiv[1]}` : null, summary: p.summary };
});
