/**
 * Simulated time (reference `simulator/clock.py`): minutes since the episode started at Monday 09:00;
 * each email advances it by a uniform 8–15 minutes.
 */

import { integers } from '../core/random/distributions.js';
import type { RandomStream } from '../core/random/streams.js';

export const START_HOUR = 9;

export class SimClock {
  minutes = 0;

  reset(): void {
    this.minutes = 0;
  }

  /** Advance by 8–15 minutes (numpy `integers(8, 16)`); returns the new time. */
  tick(rng: RandomStream): number {
    this.minutes += integers(rng, 8, 16);
    return this.minutes;
  }

  /** Hour of day in [0, 24). */
  get hourOfDay(): number {
    return (START_HOUR + this.minutes / 60) % 24;
  }

  /** Day of week, 0 = Monday … 6 = Sunday. */
  get dayOfWeek(): number {
    return Math.floor((START_HOUR + this.minutes / 60) / 24) % 7;
  }
}
