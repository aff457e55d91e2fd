/**
 * Per-service parameters (reference `app/sector_profiles.py`). Only the fields the simulation reads
 * are kept; the reference's unused fields (scrutiny intensity, base processing rate, enrichment…)
 * have no effect on any episode.
 */
import type { Service, UrgencyProfile } from './types.js';

export interface SectorProfile {
  readonly missingDocsProbability: number;
  readonly docDefectRateDigital: number;
  readonly docDefectRatePaper: number;
  readonly fieldVerificationProbability: number;
  readonly slaDays: number;
  readonly urgencyProfile: UrgencyProfile;
  readonly fieldVerificationDays: number;
}

export const SECTOR_PROFILES: Readonly<Record<Service, SectorProfile>> = {
  income_certificate: {
    missingDocsProbability: 0.45,
    docDefectRateDigital: 0.3,
    docDefectRatePaper: 0.65,
    fieldVerificationProbability: 0.3,
    slaDays: 21,
    urgencyProfile: 'moderate',
    fieldVerificationDays: 3,
  },
  land_registration: {
    missingDocsProbability: 0.35,
    docDefectRateDigital: 0.25,
    docDefectRatePaper: 0.55,
    fieldVerificationProbability: 0.65,
    slaDays: 30,
    urgencyProfile: 'low_but_sticky',
    fieldVerificationDays: 5,
  },
  caste_certificate: {
    missingDocsProbability: 0.4,
    docDefectRateDigital: 0.25,
    docDefectRatePaper: 0.6,
    fieldVerificationProbability: 0.35,
    slaDays: 21,
    urgencyProfile: 'moderate',
    fieldVerificationDays: 3,
  },
  birth_certificate: {
    missingDocsProbability: 0.2,
    docDefectRateDigital: 0.15,
    docDefectRatePaper: 0.35,
    fieldVerificationProbability: 0.05,
    slaDays: 7,
    urgencyProfile: 'high',
    fieldVerificationDays: 1,
  },
  passport: {
    missingDocsProbability: 0.25,
    docDefectRateDigital: 0.2,
    docDefectRatePaper: 0.5,
    fieldVerificationProbability: 0.9,
    slaDays: 30,
    urgencyProfile: 'high',
    fieldVerificationDays: 14,
  },
  gst_registration: {
    missingDocsProbability: 0.3,
    docDefectRateDigital: 0.2,
    docDefectRatePaper: 0.5,
    fieldVerificationProbability: 0.2,
    slaDays: 7,
    urgencyProfile: 'high',
    fieldVerificationDays: 2,
  },
  driving_license: {
    missingDocsProbability: 0.28,
    docDefectRateDigital: 0.18,
    docDefectRatePaper: 0.45,
    fieldVerificationProbability: 0.4,
    slaDays: 14,
    urgencyProfile: 'moderate',
    fieldVerificationDays: 2,
  },
  aadhaar_card: {
    missingDocsProbability: 0.22,
    docDefectRateDigital: 0.12,
    docDefectRatePaper: 0.3,
    fieldVerificationProbability: 0.18,
    slaDays: 10,
    urgencyProfile: 'high',
    fieldVerificationDays: 2,
  },
};

/** P(urgent at arrival) by urgency profile; `low` and `low_but_sticky` never draw. */
export const URGENT_PROBABILITY: Readonly<Record<UrgencyProfile, number | undefined>> = {
  high: 0.2,
  moderate: 0.08,
  low: undefined,
  low_but_sticky: undefined,
};
