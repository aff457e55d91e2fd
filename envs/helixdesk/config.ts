/**
 * HelixDesk configuration: the reference `config.yaml`, validated with zod. Defaults are the
 * reference's values; a user file (YAML or JSON) only needs the keys it changes, and everything
 * propagates (number of employees, categories, SLA hours, reward weights, episode length…).
 * Errors name the key and what it accepts.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidConfigError } from '../core/errors.js';
import { DEFAULT_CATEGORIES } from './templates.js';

const positive = z.number().positive();
const probability = z.number().min(0).max(1);
const weight = z.number().finite();

export const HelixConfigSchema = z
  .object({
    env: z
      .object({
        episode_emails: z.number().int().positive().default(100),
        n_employees: z.number().int().min(1).max(64).default(5),
        /** Must equal email_gen.categories.length (kept for compatibility with the reference file). */
        n_categories: z.number().int().positive().optional(),
        /** Declared by the reference, read by nothing. */
        confidence_threshold: probability.default(0.75),
        /** Growth (%) over the trend window that raises a category alert. */
        trend_alert_threshold: z.number().default(30),
        trend_window_hours: positive.default(72),
        seed: z.number().int().default(42),
      })
      .strict()
      .prefault({}),
    sla: z
      .object({
        critical_hours: positive.default(4),
        high_hours: positive.default(12),
        medium_hours: positive.default(24),
        normal_hours: positive.default(48),
        max_employee_load: z.number().int().positive().default(10),
      })
      .strict()
      .prefault({}),
    rewards: z
      .object({
        resolve_on_time: weight.default(1.0),
        csat_high: weight.default(0.8),
        trend_prevented: weight.default(0.6),
        /** The reference's key for the correct-classification bonus. */
        correct_priority: weight.default(0.5),
        balanced_assignment: weight.default(0.4),
        kb_updated: weight.default(0.3),
        missed_deadline: weight.default(-1.0),
        bad_autoreply: weight.default(-0.8),
        unnecessary_escalation: weight.default(-0.6),
        misclassification: weight.default(-0.5),
        /** Never fires: nothing in the simulation reopens a complaint (as in the reference). */
        complaint_reopened: weight.default(-0.4),
        keyword_flag_missed: weight.default(-0.3),
        /** The reference v2 "agentic" terms: an opt-in switch (docs/decisions.md), off by default. */
        agentic: z
          .object({
            enabled: z.boolean().default(false),
            ambiguity_resolved: weight.default(0.5),
            acted_on_ambiguity: weight.default(-0.5),
            risky_assignment: weight.default(-0.3),
            gm_not_alerted: weight.default(-0.2),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    email_gen: z
      .object({
        query_ratio: probability.default(0.45),
        keyword_flag_rate: probability.default(0.05),
        enterprise_rate: probability.default(0.1),
        standard_rate: probability.default(0.55),
        free_rate: probability.default(0.35),
        categories: z
          .array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'category names are lower_snake_case'))
          .min(1)
          .refine((c) => new Set(c).size === c.length, 'categories must be unique')
          .default([...DEFAULT_CATEGORIES]),
      })
      .strict()
      .prefault({}),
    employee_sim: z
      .object({
        base_resolve_rate: probability.default(0.7),
        overload_penalty: probability.default(0.3),
        /** Loads above this use the overload penalty (hard-coded 7 in the reference). */
        overload_threshold: z.number().int().nonnegative().default(7),
        ignore_probability: probability.default(0.05),
      })
      .strict()
      .prefault({}),
    /** The reference's CSV/dashboard settings: accepted, not used by the simulation. */
    monitor: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.env.n_categories !== undefined && cfg.env.n_categories !== cfg.email_gen.categories.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['env', 'n_categories'],
        message: `must equal the number of email_gen.categories (${cfg.email_gen.categories.length})`,
      });
    }
    if (cfg.email_gen.enterprise_rate + cfg.email_gen.standard_rate > 1 + 1e-9) {
      ctx.addIssue({
        code: 'custom',
        path: ['email_gen', 'standard_rate'],
        message: 'enterprise_rate + standard_rate must not exceed 1',
      });
    }
  });

export type HelixConfig = z.infer<typeof HelixConfigSchema>;
/** A partial config (any subset of keys), as a user writes it. */
export type HelixConfigInput = z.input<typeof HelixConfigSchema>;

export const DEFAULT_HELIX_CONFIG: HelixConfig = HelixConfigSchema.parse({});

/** Validates a (partial) config and fills in the defaults; errors name the offending key. */
export function parseHelixConfig(input: unknown): HelixConfig {
  const parsed = HelixConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.map(String).join('.');
    const key = where ? `${where}.${issue.keys[0]}` : String(issue.keys[0]);
    throw new InvalidConfigError(
      key,
      `the keys of the reference ` +
        `config.yaml${where ? ` under '${where}'` : ' (env, sla, rewards, email_gen, employee_sim, monitor)'}`,
      'is not a known key',
    );
  }
  const key = issue.path.map(String).join('.') || '(root)';
  const value = issue.path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );
  throw new InvalidConfigError(key, describeAllowed(issue), `got ${JSON.stringify(value)}`);
}

function describeAllowed(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `at least ${String(issue.minimum)} item(s)`
        : `a number ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `a number ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

/** Reads a YAML or JSON config file (by extension; YAML otherwise) and validates it. */
export function loadHelixConfig(file: string): HelixConfig {
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message})`);
  }
  try {
    return parseHelixConfig(raw);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** Observation length for a config: 24 fixed dims + 2 per employee + 1 per category (42 by default). */
export function observationSize(cfg: HelixConfig): number {
  return 24 + 2 * cfg.env.n_employees + cfg.email_gen.categories.length;
}

/** Where each observation block starts for a config (the seed README's layout, generalised). */
export function observationLayout(cfg: HelixConfig): {
  team: number;
  sla: number;
  trend: number;
  time: number;
  progress: number;
  size: number;
} {
  const team = 15;
  const sla = team + 2 * cfg.env.n_employees;
  const trend = sla + 4;
  const time = trend + cfg.email_gen.categories.length;
  const progress = time + 2;
  return { team, sla, trend, time, progress, size: progress + 3 };
}
