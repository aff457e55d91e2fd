/**
 * Parity with the public reference: every golden trace in ../shared/fixtures/gov-workflow replays in
 * the `reference` variant with every recorded field equal (exact for integers, booleans and strings;
 * 1e-9 absolute for floats), including the final state and the grader output.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GovTrace } from './trace.js';
import { firstDifference, loadTrace, replayTrace } from './trace.js';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/gov-workflow');
const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('golden traces (reference variant)', () => {
  it('ships the 24 traces of 4 tasks × 2 seeds × 3 scripts', () => {
    expect(files).toHaveLength(24);
  });

  it.each(files)('%s', (file) => {
    const trace = loadTrace(resolve(FIXTURES, file));
    const result = replayTrace(trace, 'reference');
    if (!result.ok) expect.fail(JSON.stringify(result.mismatch));
    expect(result.steps).toBe(trace.actions.length);
  });
});

describe('the replay comparison itself', () => {
  const trace = (): GovTrace => loadTrace(resolve(FIXTURES, 'mixed_urgency_medium__seed7__mixed_admin.json'));

  it('reports a float that differs by more than 1e-9, with its path and step', () => {
    const t = trace();
    const step = t.steps[40] as GovTrace['steps'][number];
    const obs = step.obs as { queue_snapshots: Record<string, { current_sla_risk: number }> };
    (obs.queue_snapshots.passport as { current_sla_risk: number }).current_sla_risk += 1e-6;
    const r = replayTrace(t, 'reference');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.mismatch.step).toBe(41);
      expect(r.mismatch.path).toBe('obs.queue_snapshots.passport.current_sla_risk');
    }
  });

  it('tolerates last-bit float differences but not integer ones', () => {
    expect(firstDifference(0.1 + 0.2, 0.3, 'x')).toBeUndefined();
    expect(firstDifference(3, 4, 'x')).toEqual({ path: 'x', expected: 3, got: 4 });
    expect(firstDifference({ a: { b: 1 } }, { a: { b: 1, c: 2 } }, 'obs')).toMatchObject({ path: 'obs.a (keys)' });
  });

  it('reports a changed grader score and a changed final state', () => {
    const t1 = trace();
    (t1.grader as { score: number }).score += 0.01;
    const r1 = replayTrace(t1, 'reference');
    expect(r1.ok ? undefined : r1.mismatch).toMatchObject({ step: 'grader', path: 'grader.score' });
    const t2 = trace();
    (t2.final_state as { total_docs_cleared: number }).total_docs_cleared += 1;
    const r2 = replayTrace(t2, 'reference');
    expect(r2.ok ? undefined : r2.mismatch).toMatchObject({
      step: 'final_state',
      path: 'final_state.total_docs_cleared',
    });
  });

  it('the corrected variant does not reproduce the reference traces', () => {
    const r = replayTrace(trace(), 'corrected');
    expect(r.ok).toBe(false);
  });
});
