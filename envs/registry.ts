/**
 * The env registry with queue-rl's built-in families loaded: `gov-workflow/<task>` (and
 * `gov-workflow/curriculum`) and `helixdesk/<task>`. Code outside envs/ imports this module; the
 * generic registry is envs/core/registry.ts, each family registers itself in its `family.ts`.
 */
import './gov-workflow/family.js';
import './helixdesk/family.js';

export * from './core/registry.js';
export type { GovEnvOptions } from './gov-workflow/family.js';
export { GovEnvOptionsSchema, govEnvOptions } from './gov-workflow/family.js';
export type { HelixEnvOptions } from './helixdesk/family.js';
export { HelixEnvOptionsSchema, helixEnvOptions } from './helixdesk/family.js';
