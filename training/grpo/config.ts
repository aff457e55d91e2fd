/**
 * GRPO run configuration (zod; every field defaulted and echoed into the run's results). Names
 * follow TRL's GRPOConfig where there is one (num_generations → group_size, epsilon, epsilon_high,
 * beta, scale_rewards, learning_rate). Files in training/configs/ (YAML/JSON, `extends` supported);
 * command-line flags override any field (`--group-size 4`, `--learner.type export`).
 */
import { z } from 'zod';
import { BACKEND_PREFERENCES } from '../../agents/policy/backend.js';
import { InvalidConfigError } from '../../envs/core/errors.js';
import { TASK_IDS } from '../../envs/gov-workflow/tasks.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { applyOverrides, configFieldNames, isConfigFlag, parseConfigWith, readConfigObject } from '../ppo/config.js';

const fraction = z.number().min(0).max(1);

export const GrpoConfigSchema = z
  .object({
    name: z.string().default('custom'),
    phase: z.string().default('grpo-phase1'),
    /** Gov Workflow only: its prompts, reward functions and continuation policy. */
    env: z.literal('gov-workflow').default('gov-workflow'),
    variant: z.enum(VARIANTS).default('corrected'),
    /** Tasks the prompt states come from, with weights (a walker draws its task at each reset). */
    task_mix: z
      .partialRecord(z.enum(TASK_IDS as [string, ...string[]]), z.number().nonnegative())
      .default({ district_backlog_easy: 1 }),
    seed: z.number().int().nonnegative().default(0),
    iterations: z.number().int().positive().max(1_000_000).default(30),
    /** Prompt states per iteration: one walker per state, each a running episode of the current policy. */
    states_per_iteration: z.number().int().positive().max(4096).default(8),
    /** Completions per state (TRL num_generations). */
    group_size: z.number().int().min(2).max(128).default(8),
    temperature: z.number().positive().max(2).default(1),
    /**
     * 'n': one request with n = group_size; 'parallel': group_size requests; 'auto': n, parallel if the endpoint
     * refuses n.
     */
    sampling: z.enum(['auto', 'n', 'parallel']).default('auto'),
    max_tokens: z.number().int().positive().max(1_000_000).default(256),
    /** Steps of the fixed continuation policy after the scored action (fn3 sums the rewards of 1 + H steps). */
    continuation_horizon: z.number().int().nonnegative().max(10_000).default(3),
    continuation_policy: z.enum(['advance', 'heuristic']).default('advance'),
    reward_weights: z
      .object({
        fn1_valid: z.number().default(1),
        fn2_no_halluc: z.number().default(1),
        fn3_env_score: z.number().default(1),
      })
      .strict()
      .default({ fn1_valid: 1, fn2_no_halluc: 1, fn3_env_score: 1 }),
    /** 'group': (r − mean)/(std + eps) per group (GRPO); 'none': r − mean (Dr. GRPO). */
    scale_rewards: z.enum(['group', 'none']).default('group'),
    advantage_eps: z.number().positive().default(1e-4),
    /**
     * Drop groups whose rewards all tie (no signal; DAPO's dynamic sampling without resampling). Counted either way.
     */
    drop_zero_std_groups: z.boolean().default(true),
    /** Clipped ratio: [1 − epsilon, 1 + (epsilon_high ?? epsilon)]. */
    epsilon: z.number().positive().default(0.2),
    epsilon_high: z.number().positive().nullable().default(null),
    /** KL to the frozen reference policy (k3 estimator) weight; 0 = no reference (TRL default). */
    beta: z.number().nonnegative().default(0),
    learning_rate: z.number().positive().default(3e-3),
    /** Passes over each iteration's samples (TRL num_iterations μ). */
    epochs: z.number().int().positive().max(1000).default(1),
    max_grad_norm: z.number().positive().default(0.5),
    adam: z
      .object({
        beta1: fraction.default(0.9),
        beta2: fraction.default(0.999),
        eps: z.number().positive().default(1e-5),
      })
      .strict()
      .default({ beta1: 0.9, beta2: 0.999, eps: 1e-5 }),
    /**
     * The policy the run starts from and trains (a PPO or GRPO checkpoint); required by the tfjs learner and the
     * built-in server.
     */
    init_from: z.string().nullable().default(null),
    /**
     * Where completions come from: null = a policy server started in-process on 127.0.0.1 from init_from (what the tfjs
     * learner updates).
     */
    endpoint: z
      .object({
        base_url: z.string().url().nullable().default(null),
        model: z.string().nullable().default(null),
        concurrency: z.number().int().positive().max(1024).default(16),
        timeout_ms: z.number().int().positive().max(3_600_000).default(60_000),
        retries: z.number().int().nonnegative().max(20).default(4),
      })
      .strict()
      .default({ base_url: null, model: null, concurrency: 16, timeout_ms: 60_000, retries: 4 }),
    learner: z
      .object({
        type: z.enum(['tfjs', 'export', 'http']).default('tfjs'),
        /** http: the trainer's URL (POST groups); see learners.ts for the contract. */
        trainer_url: z.string().url().nullable().default(null),
        /** http: a vLLM-style server to load each new adapter into (POST /v1/load_lora_adapter), or null. */
        load_adapter_url: z.string().url().nullable().default(null),
        adapter_prefix: z.string().default('queue-rl-grpo'),
      })
      .strict()
      .default({ type: 'tfjs', trainer_url: null, load_adapter_url: null, adapter_prefix: 'queue-rl-grpo' }),
    /** Checkpoint every `checkpoint_every` iterations (and at the end); keep the last `keep_last`. */
    checkpoint_every: z.number().int().positive().default(5),
    keep_last: z.number().int().positive().default(2),
    backend: z.enum(BACKEND_PREFERENCES).default('auto'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (Object.values(c.task_mix).every((w) => !w))
      ctx.addIssue({ code: 'custom', path: ['task_mix'], message: 'needs a task with a positive weight' });
    if (c.learner.type === 'http' && !c.learner.trainer_url)
      ctx.addIssue({ code: 'custom', path: ['learner', 'trainer_url'], message: 'is required by the http learner' });
    if (c.endpoint.base_url === null && !c.init_from)
      ctx.addIssue({
        code: 'custom',
        path: ['init_from'],
        message: 'is required when the run serves its own policy (endpoint.base_url null)',
      });
    if (c.learner.type === 'tfjs' && !c.init_from)
      ctx.addIssue({
        code: 'custom',
        path: ['init_from'],
        message: 'is required by the tfjs learner (the policy it trains)',
      });
  });

export type GrpoConfig = z.infer<typeof GrpoConfigSchema>;
export type GrpoConfigInput = z.input<typeof GrpoConfigSchema>;

export function parseGrpoConfig(input: unknown, source = 'config'): GrpoConfig {
  return parseConfigWith(GrpoConfigSchema, input, source, 'a GRPO config');
}

/** A built-in GRPO config (training/configs/) or a file, with `--field value` overrides. */
export const GRPO_CONFIG_FIELDS: readonly string[] = configFieldNames(GrpoConfigSchema);

export function loadGrpoConfig(
  nameOrPath: string,
  overrides: ReadonlyArray<readonly [string, string]> = [],
): GrpoConfig {
  const raw = readConfigObject(nameOrPath);
  for (const [flag] of overrides) {
    if (!isConfigFlag(flag.replace(/^--/, ''), GRPO_CONFIG_FIELDS))
      throw new InvalidConfigError(
        flag,
        GRPO_CONFIG_FIELDS.map((k) => `--${k.replace(/_/g, '-')}`).join(', '),
        'is not a GRPO config field',
      );
  }
  return parseGrpoConfig(applyOverrides(raw, overrides, GRPO_CONFIG_FIELDS), nameOrPath);
}
