/** What the page and the library list for each registered policy: its id, paper (with a link), one line and its parameters' ranges. */
import type { ParamSpec } from '../policies/params.ts';
import { createPolicy, policyDefinition, USER_POLICY_IDS } from '../policies/registry.ts';

export interface PolicyInfo {
  id: string;
  paper: string;
  /** The paper's arXiv page, when it has one. */
  url: string | null;
  summary: string;
  /** Its parameters (GenerateRequest.cache.params): each one's default and the range it accepts. */
  params: Readonly<Record<string, ParamSpec>>;
}

export const POLICY_CATALOG: readonly PolicyInfo[] = USER_POLICY_IDS.map((id) => {
  const p = createPolicy(id);
  const arxiv = /arXiv (\d{4}\.\d{4,5})/.exec(p.paper);
  return { id, paper: p.paper, url: arxiv ? `https://arxiv.org/abs/${arxiv[1]}` : null, summary: p.summary, params: policyDefinition(id).params };
});
