/** v1's own baseline policies (app/baselines.py @ 1a2660b3), acting on its observation. */
import type { V1Action, V1Observation, V1QueueSnapshot, V1Service } from './model.js';

export const V1_POLICY_NAMES = ['urgent_first', 'oldest_first', 'backlog_clearance'] as const;
export type V1PolicyName = (typeof V1_POLICY_NAMES)[number];

/** Python's sorted(…, reverse=True) keeps equal elements in their original order (a stable descending sort). */
function sortedDesc<T>(xs: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return [...xs].sort((a, b) => cmp(b, a));
}

/** The service with the most `attr` (ties: more active cases, then the greater name), or null when it has none. */
function serviceWithMax(attr: 'active_cases' | 'missing_docs_cases', obs: V1Observation): V1Service | null {
  const ranked = sortedDesc(obs.queue_snapshots, (a, b) =>
    a[attr] !== b[attr]
      ? a[attr] - b[attr]
      : a.active_cases !== b.active_cases
        ? a.active_cases - b.active_cases
        : a.service < b.service
          ? -1
          : a.service > b.service
            ? 1
            : 0,
  );
  const top = ranked[0];
  return top && top[attr] > 0 ? top.service : null;
}

const advance: V1Action = { action_type: 'advance_time', officer_delta: 0 };

export function v1Policy(name: V1PolicyName, obs: V1Observation): V1Action {
  if (name === 'urgent_first') {
    if (obs.priority_mode !== 'urgent_first')
      return { action_type: 'set_priority_mode', priority_mode: 'urgent_first', officer_delta: 0 };
    const target = serviceWithMax('missing_docs_cases', obs);
    return target ? { action_type: 'request_missing_documents', service: target, officer_delta: 0 } : advance;
  }
  if (name === 'oldest_first') {
    if (obs.priority_mode !== 'oldest_first')
      return { action_type: 'set_priority_mode', priority_mode: 'oldest_first', officer_delta: 0 };
    return advance;
  }
  if (obs.priority_mode !== 'backlog_clearance')
    return { action_type: 'set_priority_mode', priority_mode: 'backlog_clearance', officer_delta: 0 };
  if (obs.officer_pool.reserve_officers > 0) {
    const target = serviceWithMax('active_cases', obs);
    if (target) return { action_type: 'assign_capacity', service: target, officer_delta: 1 };
  }
  const docs = serviceWithMax('missing_docs_cases', obs);
  if (docs) return { action_type: 'request_missing_documents', service: docs, officer_delta: 0 };
  const byActive = (a: V1QueueSnapshot, b: V1QueueSnapshot): number => a.active_cases - b.active_cases;
  const hot = sortedDesc(obs.queue_snapshots, byActive)[0];
  const cold = [...obs.queue_snapshots].sort(byActive)[0];
  if (hot && cold && hot.active_cases - cold.active_cases >= 3) {
    const [src, tgt] = [cold.service, hot.service];
    if (src !== tgt && (obs.officer_pool.allocations[src] ?? 0) > 1)
      return { action_type: 'reallocate_officers', service: src, target_service: tgt, officer_delta: 1 };
  }
  return advance;
}
