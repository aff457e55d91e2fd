/**
 * GRPO's walkers: episodes of the current policy, one per prompt state of an iteration. Each starts
 * from a seeded reset on a task drawn from the task mix, takes its group's first completion as its
 * action (a sample of the current policy) and resets with the next seed and task when its episode
 * ends — so the prompt states cover whole episodes. Seeds and draws derive from the run seed.
 */
import type { Prompt } from '../../agents/llm/prompts.js';
import { buildGovPrompt } from '../../agents/llm/prompts.js';
import type { RandomStream, RandomStreamState } from '../../envs/core/random/streams.js';
import { createStream, deriveSeed, restoreStream } from '../../envs/core/random/streams.js';
import { weightedChoice } from '../../envs/core/random/weighted.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK } from '../../envs/gov-workflow/adapter/action-table.js';
import { govAgentInputAt } from '../../envs/gov-workflow/adapter/agent-view.js';
import type { AdapterTrace } from '../../envs/gov-workflow/adapter/trace.js';
import { freshTrace, recordAction } from '../../envs/gov-workflow/adapter/trace.js';
import type { GovEnvSnapshot } from '../../envs/gov-workflow/env.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import type { GrpoConfig } from './config.js';

export interface Walker {
  env: GovWorkflowEnv;
  trace: AdapterTrace;
  task: string;
  seed: number;
  step: number;
  episode: number;
  rng: RandomStream;
}

/** A walker as plain data (walkers.bin of a checkpoint). */
export interface WalkerState {
  snapshot: GovEnvSnapshot;
  trace: AdapterTrace;
  task: string;
  seed: number;
  step: number;
  episode: number;
  rng: RandomStreamState;
}

export type WalkerPrompt = ReturnType<typeof buildGovPrompt> & Prompt<GovAction>;

export function startWalkers(config: GrpoConfig): Walker[] {
  return Array.from({ length: config.states_per_iteration }, (_, i) => {
    const w: Walker = {
      env: new GovWorkflowEnv({ taskId: 'district_backlog_easy', variant: config.variant }),
      trace: freshTrace(DEFAULT_MAX_NON_ADVANCE_STREAK),
      task: '',
      seed: 0,
      step: 0,
      episode: -1,
      rng: createStream(config.seed, 'grpo', 'walker', i),
    };
    resetWalker(w, config, i);
    return w;
  });
}

export function restoreWalkers(states: readonly WalkerState[], config: GrpoConfig): Walker[] {
  return states.map((s) => {
    const env = new GovWorkflowEnv({ taskId: s.task, variant: config.variant });
    env.restore(s.snapshot);
    return {
      env,
      trace: { ...s.trace },
      task: s.task,
      seed: s.seed,
      step: s.step,
      episode: s.episode,
      rng: restoreStream(s.rng),
    };
  });
}

export function walkerStates(walkers: readonly Walker[]): WalkerState[] {
  return walkers.map((w) => ({
    snapshot: w.env.snapshot(),
    trace: { ...w.trace },
    task: w.task,
    seed: w.seed,
    step: w.step,
    episode: w.episode,
    rng: w.rng.state(),
  }));
}

/** The next episode: a task from the mix, the walker's next seed. */
export function resetWalker(w: Walker, config: GrpoConfig, index: number): void {
  w.episode++;
  w.task = weightedChoice(config.task_mix, w.rng);
  w.seed = deriveSeed(config.seed, 'grpo', 'walker', index, 'episode', w.episode);
  w.env = new GovWorkflowEnv({ taskId: w.task, variant: config.variant });
  w.env.reset({ seed: w.seed });
  w.trace = freshTrace(DEFAULT_MAX_NON_ADVANCE_STREAK);
  w.step = 0;
}

/** The prompt of the walker's current state. */
export function walkerPrompt(w: Walker): WalkerPrompt {
  return buildGovPrompt(govAgentInputAt(w.env, w.trace, w.step, w.seed));
}

/** The walker takes `action` (null: an unusable completion, the env's invalid step) and moves on. */
export function advanceWalker(w: Walker, action: GovAction | null, config: GrpoConfig, index: number): void {
  const day = w.env.current.counters.day;
  const r = action ? w.env.step(action) : w.env.stepInvalid('unusable completion');
  const advanced = action?.action_type === 'advance_time' && !r.info.invalid_action;
  recordAction(w.trace, action?.action_type ?? null, day, advanced);
  w.step++;
  if (r.terminated || r.truncated) resetWalker(w, config, index);
}
