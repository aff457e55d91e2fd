/**
 * New applications for one day (reference `DaySimulator._spawn_arrivals` / `_new_case`), drawing from
 * the episode's main CPython RNG in exactly the reference's order:
 *
 *   per enabled service, in task order:
 *     count = floor(rate·mult), +1 if random() < frac   (the draw happens even when frac = 0)
 *     per case: random() < digital ratio → digital      (else paper)
 *               random() < eff_missing   → missing documents
 *               random() < eff_fv        → field verification required
 *               high profile: random() < 0.20 / moderate: random() < 0.08 → urgent (low: no draw)
 */

import type { PyRandom } from '../core/random/cpython-random.js';
import type { CaseTable } from './case-table.js';
import { NO_DAY } from './case-table.js';
import type { DayEventParams } from './events.js';
import { SECTOR_PROFILES, URGENT_PROBABILITY } from './sector-profiles.js';
import type { TaskConfig } from './tasks.js';
import { SERVICES } from './types.js';

/** Creates the day's cases in `table`; returns how many arrived. */
export function spawnArrivals(
  day: number,
  task: TaskConfig,
  params: DayEventParams,
  rng: PyRandom,
  table: CaseTable,
): number {
  let arrived = 0;
  for (const service of task.enabledServices) {
    const rate = (task.arrivalRatePerDay[service] ?? 0.0) * params.arrivalMultiplier;
    let count = Math.trunc(rate);
    if (rng.random() < rate - count) count += 1;

    const profile = SECTOR_PROFILES[service];
    const serviceIndex = SERVICES.indexOf(service);
    const slaDays = Math.trunc(profile.slaDays * params.slaWindowMultiplier);
    const baseMissing = task.missingDocsProbabilityOverride[service] ?? profile.missingDocsProbability;
    const baseFieldVerification =
      task.fieldVerificationProbabilityOverride[service] ?? profile.fieldVerificationProbability;
    const urgentProbability = URGENT_PROBABILITY[profile.urgencyProfile];

    for (let i = 0; i < count; i++) {
      const digital = rng.random() < task.digitalIntakeRatio;
      const defectRate = digital ? profile.docDefectRateDigital : profile.docDefectRatePaper;
      const effMissing = Math.min(1.0, baseMissing + params.docDefectRateBoost * defectRate);
      const missingDocs = rng.random() < effMissing;
      const fieldVerificationRequired = rng.random() < Math.min(1.0, baseFieldVerification + 0.0);
      const urgent = urgentProbability !== undefined && rng.random() < urgentProbability;
      table.add({
        service: serviceIndex,
        arrivalDay: day,
        deadlineDay: day + slaDays,
        digital,
        missingDocs,
        fieldVerificationRequired,
        fieldVerificationCompletionDay: fieldVerificationRequired ? day + profile.fieldVerificationDays : NO_DAY,
        urgent,
      });
    }
    arrived += count;
  }
  return arrived;
}
