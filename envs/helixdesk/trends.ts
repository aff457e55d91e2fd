/**
 * The trend watchdog (reference `simulator/trend_watchdog.py`): complaints are recorded under
 * their true category; each tick compares the last window (default 72 h) with the window before it,
 * growth% = (current − prior) / max(prior, 1) × 100, and alerts on growth ≥ threshold (30 %).
 * An episode lasts ~19 h, far less than the window, so prior is always 0 and a category alerts from
 * its first complaint on (a reference property, kept).
 */
import type { HelixConfig } from './config.js';

export class TrendWatchdog {
  /** Recorded complaint times per category, ascending. */
  private history: number[][];
  private readonly windowMinutes: number;
  private readonly threshold: number;

  constructor(cfg: HelixConfig) {
    this.history = cfg.email_gen.categories.map(() => []);
    this.windowMinutes = cfg.env.trend_window_hours * 60;
    this.threshold = cfg.env.trend_alert_threshold;
  }

  reset(): void {
    for (const h of this.history) h.length = 0;
  }

  record(category: number, now: number): void {
    (this.history[category] as number[]).push(now);
  }

  private counts(category: number, now: number): [prior: number, current: number] {
    const times = this.history[category] as number[];
    const split = now - this.windowMinutes;
    let prior = 0;
    for (const t of times) {
      if (t < split) prior++;
      else break; // ascending
    }
    return [prior, times.length - prior];
  }

  /** Prune entries older than two windows; return the indices of alerting categories. */
  tick(now: number): number[] {
    const alerts: number[] = [];
    const cutoff = now - 2 * this.windowMinutes;
    this.history.forEach((times, c) => {
      let drop = 0;
      while (drop < times.length && (times[drop] as number) < cutoff) drop++;
      if (drop > 0) times.splice(0, drop);
      const [prior, current] = this.counts(c, now);
      if (((current - prior) / Math.max(prior, 1)) * 100 >= this.threshold) alerts.push(c);
    });
    return alerts;
  }

  /** Growth fraction per category, clipped to [−1, 1] (the observation's trend dims). */
  growthRates(now: number, out: Float64Array | Float32Array, offset: number): void {
    for (let c = 0; c < this.history.length; c++) {
      const [prior, current] = this.counts(c, now);
      out[offset + c] = Math.max(-1, Math.min(1, (current - prior) / Math.max(prior, 1)));
    }
  }

  save(): number[][] {
    return this.history.map((h) => [...h]);
  }

  restore(data: readonly (readonly number[])[]): void {
    this.history = data.map((h) => [...h]);
  }
}
