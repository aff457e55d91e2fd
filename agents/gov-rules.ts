/**
 * The rule policies of the Gov Workflow reference, on our env's public API:
 *
 * - `urgent_first` (reference `app/baselines.py`, an alias of greedy_sla at d01bbe51): if any service
 *   has urgent cases, request documents for the service with the most; otherwise backlog_clearance.
 * - `oldest_first`: always advance_time (it never sets a priority mode — as in the reference).
 * - `backlog_clearance`: an idle officer to the most-pending service; else documents for the service
 *   with the most blocked cases; else move one officer from the least to the most loaded service when
 *   they differ by ≥ 3 and the cold one has > 1 officer; else advance.
 * - `heuristic` (reference `baseline_openai.py` HeuristicAgent): at most one administrative action per
 *   simulated day — urgent_first mode once; idle officer to the most loaded; rebalance when the
 *   pending/officer ratios differ by > 1.8×; document requests at most every 3 days (or when none
 *   are pending); escalation in the last 5 days — then advance.
 *
 * Ties go to the first service in task order (Python's stable sort and max()). In the v2 reference
 * urgent_first and backlog_clearance degenerate: a blocked case almost always exists, so they request
 * documents forever and are truncated at max_days × 10 steps. We reproduce that, not fix it.
 */
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovObservation, QueueSnapshot } from '../envs/gov-workflow/observation.js';
import type { PriorityMode, Service } from '../envs/gov-workflow/types.js';
import { PRIORITY_MODES } from '../envs/gov-workflow/types.js';
import type { GovAgent, GovAgentInput } from './types.js';

const ADVANCE: GovAction = { action_type: 'advance_time' };

function snapshots(obs: GovObservation): QueueSnapshot[] {
  return Object.values(obs.queue_snapshots).filter((s): s is QueueSnapshot => s !== undefined);
}

function idleOfficers(obs: GovObservation): number {
  const pool = obs.officer_pool;
  return pool.available_officers - Object.values(pool.allocated).reduce((a, b) => a + (b ?? 0), 0);
}

/** First snapshot with the largest value (Python: sorted(reverse=True)[0] / max()), if that value is > 0. */
function serviceWithMax(obs: GovObservation, value: (s: QueueSnapshot) => number): Service | undefined {
  let best: QueueSnapshot | undefined;
  for (const s of snapshots(obs)) if (best === undefined || value(s) > value(best)) best = s;
  return best !== undefined && value(best) > 0 ? best.service_type : undefined;
}

export function backlogClearanceAction(obs: GovObservation): GovAction {
  if (idleOfficers(obs) > 0) {
    const target = serviceWithMax(obs, (s) => s.total_pending);
    if (target) return { action_type: 'assign_capacity', service_target: target, capacity_assignment: { [target]: 1 } };
  }
  const blocked = serviceWithMax(obs, (s) => s.blocked_missing_docs);
  if (blocked) return { action_type: 'request_missing_documents', service_target: blocked };
  const snaps = snapshots(obs);
  if (snaps.length >= 2) {
    let hot = snaps[0] as QueueSnapshot;
    let cold = snaps[0] as QueueSnapshot;
    for (const s of snaps) {
      if (s.total_pending > hot.total_pending) hot = s;
      if (s.total_pending < cold.total_pending) cold = s;
    }
    const coldOfficers = obs.officer_pool.allocated[cold.service_type] ?? 0;
    if (hot.service_type !== cold.service_type && hot.total_pending - cold.total_pending >= 3 && coldOfficers > 1) {
      return {
        action_type: 'reallocate_officers',
        service_target: cold.service_type,
        reallocation_delta: { [cold.service_type]: -1, [hot.service_type]: 1 },
      };
    }
  }
  return ADVANCE;
}

export class UrgentFirstAgent implements GovAgent {
  readonly name = 'urgent_first';
  reset(): void {}
  act({ observation: obs }: GovAgentInput): GovAction {
    const target = serviceWithMax(obs, (s) => s.urgent_pending);
    if (target) return { action_type: 'request_missing_documents', service_target: target };
    return backlogClearanceAction(obs);
  }
}

export class OldestFirstAgent implements GovAgent {
  readonly name = 'oldest_first';
  reset(): void {}
  act(): GovAction {
    return ADVANCE;
  }
}

export class BacklogClearanceAgent implements GovAgent {
  readonly name = 'backlog_clearance';
  reset(): void {}
  act({ observation: obs }: GovAgentInput): GovAction {
    return backlogClearanceAction(obs);
  }
}

/**
 * One rule of the heuristic changed, to measure the room above it (`npm run probe:heuristic`,
 * docs/ppo.md#what-each-lever-measured). The defaults are the reference's rules; the registry's
 * `heuristic` always uses them.
 */
export interface HeuristicOptions {
  /** The mode set once at the start (default urgent_first). */
  priorityMode?: PriorityMode;
  /** No document requests when this many days or fewer are left (default 0: no such rule, as the reference). */
  noDocRequestsInLastDays?: number;
}

export class HeuristicAgent implements GovAgent {
  readonly name = 'heuristic';
  private readonly priorityMode: PriorityMode;
  private readonly noDocRequestsInLastDays: number;
  private prioritySet = false;
  private adminActionDay: number | undefined;
  private lastDocRequestDay: number | undefined;

  constructor(options: HeuristicOptions = {}) {
    this.priorityMode = options.priorityMode ?? 'urgent_first';
    this.noDocRequestsInLastDays = options.noDocRequestsInLastDays ?? 0;
    if (!PRIORITY_MODES.includes(this.priorityMode))
      throw new RangeError(
        `priorityMode: '${this.priorityMode}' is not allowed; allowed: ${PRIORITY_MODES.join(', ')}`,
      );
    if (!Number.isInteger(this.noDocRequestsInLastDays) || this.noDocRequestsInLastDays < 0)
      throw new RangeError(
        `noDocRequestsInLastDays: ${this.noDocRequestsInLastDays} is not allowed; allowed: an integer >= 0`,
      );
  }

  reset(): void {
    this.prioritySet = false;
    this.adminActionDay = undefined;
    this.lastDocRequestDay = undefined;
  }

  /** An independent copy with the same memory (a planner rolls copies forward). */
  clone(): HeuristicAgent {
    const copy = new HeuristicAgent({
      priorityMode: this.priorityMode,
      noDocRequestsInLastDays: this.noDocRequestsInLastDays,
    });
    copy.prioritySet = this.prioritySet;
    copy.adminActionDay = this.adminActionDay;
    copy.lastDocRequestDay = this.lastDocRequestDay;
    return copy;
  }

  label(input: GovAgentInput): GovAction {
    return this.clone().act(input);
  }

  observe(action: GovAction, input: GovAgentInput): void {
    this.note(action, input.observation.day);
  }

  /**
   * Remembers `action`, taken on `day` by someone else (a planner that overrode this agent), as if it
   * had chosen it: the day's administrative action, the priority mode, the last document request.
   */
  note(action: GovAction, day: number): void {
    if (action.action_type === 'advance_time') return;
    this.adminActionDay = day;
    if (action.action_type === 'set_priority_mode') this.prioritySet = true;
    if (action.action_type === 'request_missing_documents') this.lastDocRequestDay = day;
  }

  act({ observation: obs }: GovAgentInput): GovAction {
    const snaps = snapshots(obs);
    if (this.adminActionDay === obs.day) return ADVANCE; // one administrative action per day
    const admin = (action: GovAction): GovAction => {
      this.adminActionDay = obs.day;
      return action;
    };

    // 1. The priority mode (urgent_first unless an option says otherwise), once.
    if (!this.prioritySet) {
      this.prioritySet = true;
      return admin({ action_type: 'set_priority_mode', priority_mode: this.priorityMode });
    }
    // 2. An idle officer to the most loaded service.
    if (idleOfficers(obs) > 0 && snaps.length > 0) {
      let most = snaps[0] as QueueSnapshot;
      for (const s of snaps) if (s.total_pending > most.total_pending) most = s;
      return admin({ action_type: 'assign_capacity', capacity_assignment: { [most.service_type]: 1 } });
    }
    const daysLeft = obs.max_days - obs.day;

    // 3. Rebalance when pending-per-officer ratios are clearly apart.
    const allocated = Object.entries(obs.officer_pool.allocated) as [Service, number][];
    if (snaps.length > 0 && allocated.length >= 2) {
      const pending = new Map(snaps.map((s) => [s.service_type, s.total_pending]));
      let src: Service | undefined;
      let srcRatio = Number.POSITIVE_INFINITY;
      let tgt: Service | undefined;
      let tgtRatio = -1.0;
      for (const [svc, officers] of allocated) {
        if (officers <= 1) continue;
        const ratio = (pending.get(svc) ?? 0) / Math.max(officers, 1);
        if (ratio < srcRatio) {
          srcRatio = ratio;
          src = svc;
        }
      }
      for (const [svc, officers] of allocated) {
        const ratio = (pending.get(svc) ?? 0) / Math.max(officers, 1);
        if (ratio > tgtRatio) {
          tgtRatio = ratio;
          tgt = svc;
        }
      }
      if (src !== undefined && tgt !== undefined && src !== tgt && tgtRatio > srcRatio * 1.8) {
        return admin({ action_type: 'reallocate_officers', reallocation_delta: { [src]: -1, [tgt]: 1 } });
      }
    }

    // 4. Documents, conservatively: a repeated request would push the arrival day back.
    const canRequest =
      (this.noDocRequestsInLastDays === 0 || daysLeft > this.noDocRequestsInLastDays) &&
      snaps.some((s) => s.blocked_missing_docs > 0) &&
      (this.lastDocRequestDay === undefined ||
        obs.day - this.lastDocRequestDay >= 3 ||
        obs.pending_doc_resolutions === 0);
    if (canRequest) {
      let target = snaps[0] as QueueSnapshot;
      const key = (s: QueueSnapshot): [number, number, number] => [
        s.blocked_missing_docs,
        s.current_sla_risk,
        s.total_pending,
      ];
      for (const s of snaps) if (tupleGreater(key(s), key(target))) target = s;
      if (target.blocked_missing_docs > 0) {
        this.lastDocRequestDay = obs.day;
        return admin({ action_type: 'request_missing_documents', service_target: target.service_type });
      }
    }

    // 5. Escalate in the final days when urgency is present.
    if (obs.escalation_budget_remaining > 0) {
      const urgent = snaps.filter((s) => s.urgent_pending > 0);
      if (urgent.length > 0 && daysLeft <= 5) {
        let target = urgent[0] as QueueSnapshot;
        for (const s of urgent) if (s.urgent_pending > target.urgent_pending) target = s;
        return admin({ action_type: 'escalate_service', escalation_target: target.service_type });
      }
    }
    return ADVANCE;
  }
}

function tupleGreater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) > (b[i] as number);
  }
  return false;
}
