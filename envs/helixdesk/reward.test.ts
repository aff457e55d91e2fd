import { describe, expect, it } from 'vitest';
import { DEFAULT_HELIX_CONFIG, parseHelixConfig } from './config.js';
import type { ResolutionEvent } from './employees.js';
import type { Ticket } from './queue.js';
import type { HelixRewardInputs } from './reward.js';
import { computeHelixReward, populationStd } from './reward.js';

const W = DEFAULT_HELIX_CONFIG.rewards;
const AGENTIC = parseHelixConfig({ rewards: { agentic: { enabled: true } } }).rewards;
const ticket = { id: 0 } as Ticket;
const base: HelixRewardInputs = {
  action: [1, 2, 0, 2],
  email: { type: 'complaint', keywordFlag: false, sentiment: 0.5 },
  resolutions: [],
  trendAlerts: 0,
  kbUpdated: false,
  loads: [1, 1, 1, 1, 1],
  previousLoads: [1, 1, 1, 1, 1],
};
const types = (x: Partial<HelixRewardInputs>, w = W): string[] =>
  computeHelixReward(w, { ...base, ...x }).events.map((e) => `${e.type}:${e.value}`);

describe('HelixDesk reward terms', () => {
  it('classification: correct, wrong, and flag-for-review (neither)', () => {
    expect(types({})).toEqual(['correct_classification:0.5']);
    expect(types({ action: [0, 3, 5, 0] })).toEqual(['misclassification:-0.5']);
    expect(types({ action: [2, 3, 5, 2], email: { type: 'complaint', keywordFlag: false, sentiment: 0.7 } })).toEqual(
      [],
    );
  });

  it('keyword flag: missed as query and not critical both fire (one weight)', () => {
    const flagged = { type: 'complaint' as const, keywordFlag: true, sentiment: 0.9 };
    expect(types({ email: flagged, action: [0, 3, 5, 0] })).toEqual([
      'misclassification:-0.5',
      'keyword_flag_missed:-0.3',
      'keyword_not_critical:-0.3',
    ]);
    expect(types({ email: flagged, action: [1, 0, 0, 2] })).toEqual(['correct_classification:0.5']);
  });

  it('employee events: resolved (+ CSAT high or bad) and missed', () => {
    const res: ResolutionEvent[] = [
      { ticket, employee: 0, resolved: true, csat: 5 },
      { ticket, employee: 1, resolved: true, csat: 3 },
      { ticket, employee: 1, resolved: true, csat: 2 },
      { ticket, employee: 2, resolved: false, csat: null },
    ];
    expect(types({ resolutions: res }).slice(1)).toEqual([
      'resolve_on_time:1',
      'csat_high:0.8',
      'resolve_on_time:1',
      'resolve_on_time:1',
      'bad_autoreply:-0.8',
      'missed_deadline:-1',
    ]);
  });

  it('trend_prevented once per alerting category when the raw secondary alerts the GM', () => {
    expect(types({ action: [1, 2, 0, 1], trendAlerts: 3 }).filter((t) => t.startsWith('trend'))).toHaveLength(3);
    expect(
      types({ action: [2, 3, 5, 1], trendAlerts: 2, email: { type: 'complaint', keywordFlag: false, sentiment: 0.9 } }),
    ).toEqual(['trend_prevented:0.6', 'trend_prevented:0.6']);
    expect(types({ action: [1, 2, 0, 2], trendAlerts: 3 })).toEqual(['correct_classification:0.5']);
  });

  it('balanced assignment, KB update, unnecessary escalation', () => {
    expect(types({ loads: [1, 1, 1, 1, 2], previousLoads: [0, 0, 0, 0, 3] })).toContain('balanced_assignment:0.4');
    expect(types({ loads: [0, 0, 0, 0, 3], previousLoads: [1, 1, 1, 1, 2] })).not.toContain('balanced_assignment:0.4');
    expect(
      types({ kbUpdated: true, action: [0, 3, 5, 0], email: { type: 'query', keywordFlag: false, sentiment: 0.2 } }),
    ).toEqual(['correct_classification:0.5', 'kb_updated:0.3']);
    expect(types({ action: [2, 3, 5, 2], email: { type: 'query', keywordFlag: false, sentiment: 0.3 } })).toEqual([
      'unnecessary_escalation:-0.6',
    ]);
    expect(populationStd([1, 1, 1, 1, 2])).toBeCloseTo(0.4, 12);
  });

  it('agentic terms only when switched on', () => {
    const ambiguous = { type: 'complaint' as const, keywordFlag: false, sentiment: 0.7 };
    expect(types({ email: ambiguous })).toEqual(['correct_classification:0.5']);
    expect(types({ email: ambiguous }, AGENTIC)).toEqual(['correct_classification:0.5', 'acted_on_ambiguity:-0.5']);
    expect(types({ email: ambiguous, action: [2, 3, 5, 2] }, AGENTIC)).toEqual(['ambiguity_resolved:0.5']);
    expect(types({ action: [1, 0, 2, 2] }, AGENTIC)).toEqual([
      'correct_classification:0.5',
      'risky_assignment:-0.3',
      'gm_not_alerted:-0.2',
    ]);
  });

  it('sums in order and clips to [−1, 1], reporting the unclipped sum', () => {
    const many = computeHelixReward(W, {
      ...base,
      resolutions: Array.from({ length: 3 }, () => ({ ticket, employee: 0, resolved: true, csat: 5 })),
    });
    expect(many.raw).toBeCloseTo(0.5 + 3 * 1.8, 12);
    expect(many.total).toBe(1);
    const bad = computeHelixReward(W, {
      ...base,
      action: [0, 3, 5, 0],
      resolutions: [{ ticket, employee: 0, resolved: false, csat: null }],
    });
    expect(bad.total).toBe(-1);
  });
});
