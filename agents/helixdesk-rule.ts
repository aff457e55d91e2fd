/**
 * The HelixDesk rule agent (reference `agents/rule_agent.py`), reading only the observation:
 * s = sentiment (dim 0), flag = dim 1 ≥ 0.5, enterprise = dim 2 ≥ 0.5, the employee loads, the least
 * loaded employee LL (first on ties) and full = every load ≥ 1. In order:
 *   1 flag        → complaint, critical, LL, alert GM      (flag for review if full)
 *   2 s > 0.85    → complaint, high, LL, none               (flag for review if full)
 *   3 enterprise  → complaint, high, LL, none               (flag for review if full)
 *   4 full        → flag for review
 *   5 s < 0.4     → query, auto-reply from the knowledge base
 *   6 otherwise   → complaint, medium, LL, none
 * Generalised to any number of employees (the reference reads five).
 */
import type { HelixAgent, HelixAgentInput } from './types.js';

export class HelixRuleAgent implements HelixAgent {
  readonly name = 'rule';

  reset(): void {}

  act({ observation: obs, nvec }: HelixAgentInput): Int32Array {
    const n = (nvec[2] as number) - 1;
    const none = n; // "no assignment"
    const s = obs[0] as number;
    const flag = (obs[1] as number) >= 0.5;
    const enterprise = (obs[2] as number) >= 0.5;
    let leastLoaded = 0;
    let full = true;
    for (let i = 0; i < n; i++) {
      const load = obs[15 + 2 * i] as number;
      if (load < (obs[15 + 2 * leastLoaded] as number)) leastLoaded = i;
      if (load < 1.0) full = false;
    }
    const review = Int32Array.of(2, 3, none, 2);
    if (flag) return full ? review : Int32Array.of(1, 0, leastLoaded, 1);
    if (s > 0.85 || enterprise) return full ? review : Int32Array.of(1, 1, leastLoaded, 2);
    if (full) return review;
    if (s < 0.4) return Int32Array.of(0, 3, none, 0);
    return Int32Array.of(1, 2, leastLoaded, 2);
  }
}
