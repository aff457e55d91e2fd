/**
 * Gov Workflow enums, in the reference's declaration order (order matters: it fixes RL layouts and
 * several iteration orders). Each enum is a readonly tuple of its JSON values plus an index lookup.
 */

export const SERVICES = [
  'passport',
  'driving_license',
  'aadhaar_card',
  'gst_registration',
  'income_certificate',
  'caste_certificate',
  'birth_certificate',
  'land_registration',
] as const;
export type Service = (typeof SERVICES)[number];

/** Public stages, as reported in `public_stage_counts`. */
export const STAGES = ['submission', 'document_verification', 'field_verification', 'approval', 'issuance'] as const;
export type Stage = (typeof STAGES)[number];

export const PRIORITY_MODES = ['urgent_first', 'oldest_first', 'balanced', 'backlog_clearance'] as const;
export type PriorityMode = (typeof PRIORITY_MODES)[number];

export const ACTION_TYPES = [
  'set_priority_mode',
  'assign_capacity',
  'request_missing_documents',
  'escalate_service',
  'advance_time',
  'reallocate_officers',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const EVENT_TYPES = [
  'surge_applications',
  'officer_unavailable',
  'document_rejection_spike',
  'revenue_db_delay',
  'sla_escalation_order',
  'no_event',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SCENARIO_MODES = ['normal', 'crisis', 'extreme_overload'] as const;
export type ScenarioMode = (typeof SCENARIO_MODES)[number];

export type UrgencyProfile = 'low' | 'moderate' | 'high' | 'low_but_sticky';

/**
 * Case-flow variant. `reference` reproduces the public reference exactly, including its two dead
 * ends; `corrected` (default) lets documents and field verification finish as intended.
 */
export const VARIANTS = ['corrected', 'reference'] as const;
export type Variant = (typeof VARIANTS)[number];
