/**
 * What a run starts from besides its initial weights: the imitation warm start (behaviour cloning of
 * a baseline agent, imitation.ts) and the anchor that the KL penalty pulls toward (the warm start's
 * weights, frozen; its logits over each rollout's observations are computed once per update).
 */
import { collectDemonstrations } from '../../agents/demonstrations.js';
import type { PolicySpec } from '../../agents/policy/policy.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { createStream } from '../../envs/core/random/streams.js';
import type { MetricRow } from '../logger.js';
import type { PpoConfig } from './config.js';
import { trainingTasks } from './config.js';
import { cloneBehaviour, imitationRow } from './imitation.js';
import type { RolloutBuffer } from './rollout-buffer.js';

export interface ImitationResult {
  rows: MetricRow[];
  /** Mean grader score of the demonstration episodes (the imitated agent on the training seeds). */
  agentScore: number;
  steps: number;
  inexpressible: number;
}

/** Behaviour cloning of config.init_from_agent into `policy` (in place). */
export function imitateAgent(
  policy: ActorCriticPolicy,
  config: PpoConfig,
  log: (line: string) => void,
): ImitationResult {
  const agent = config.init_from_agent;
  if (agent === null) throw new Error('imitateAgent: config.init_from_agent is not set');
  const family = config.env.id.split('/')[0];
  if (family !== 'gov-workflow' && family !== 'helixdesk')
    throw new Error(`init_from_agent: imitation needs a gov-workflow or helixdesk env (env.id is ${config.env.id})`);
  const im = config.imitation;
  const t0 = performance.now();
  const demos = collectDemonstrations({
    family,
    tasks: trainingTasks(config),
    envOptions: config.env.options,
    agent,
    episodesPerTask: im.episodes,
    seed: config.seed,
    gamma: config.gamma,
  });
  const agentScore = demos.episodes.reduce((a, e) => a + e.score, 0) / demos.episodes.length;
  log(
    `[ppo] imitation: ${agent} played ${demos.episodes.length} episodes (${demos.size} steps, score ` +
      `${agentScore.toFixed(4)}${demos.inexpressible > 0 ? `, ${demos.inexpressible} steps without an index` : ''}) ` +
      `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  // With reward scaling the critic learns scaled returns, which the demonstrations cannot give yet.
  const valuePretrain = im.value_pretrain && !config.normalize_reward;
  const epochs = cloneBehaviour(
    policy,
    demos,
    {
      epochs: im.epochs,
      batchSize: im.batch_size,
      learningRate: im.learning_rate,
      valuePretrain,
      adam: config.adam,
    },
    createStream(config.seed, 'imitation', 'minibatches'),
  );
  const last = epochs[epochs.length - 1];
  log(
    `[ppo] imitation: ${im.epochs} epochs, loss ${last?.loss.toFixed(4)}, accuracy ${last?.accuracy.toFixed(4)}` +
      `${last?.valueLoss !== null && last !== undefined ? `, value loss ${last.valueLoss?.toFixed(4)}` : ''}`,
  );
  return {
    rows: epochs.map((e) => imitationRow(e, demos.size)),
    agentScore,
    steps: demos.size,
    inexpressible: demos.inexpressible,
  };
}

/** The frozen warm start the KL penalty pulls toward. */
export class KlAnchor {
  readonly policy: ActorCriticPolicy;
  /** The warm start's parameters (a copy, saved in checkpoints as anchor.bin). */
  readonly parameters: Float32Array;
  /** The anchor's logits for each sample of the current rollout buffer. */
  readonly logits: Float32Array;

  constructor(spec: PolicySpec, parameters: Float32Array, bufferSize: number) {
    this.parameters = parameters.slice();
    this.policy = new ActorCriticPolicy({ ...spec, normalizeObservations: null }, this.parameters);
    this.logits = new Float32Array(bufferSize * this.policy.layout.actionSize);
  }

  /** The anchor's logits for the buffer's observations (as the current policy saw them). */
  computeLogits(buffer: RolloutBuffer): void {
    this.policy.engine.actor.forward(buffer.observations, buffer.size, this.logits);
  }

  /** The coefficient at this progress (0 = start, 1 = end of the run). */
  static coefficient(config: PpoConfig, progress: number): number {
    const { coef, decay } = config.init_kl;
    return decay === 'linear' ? coef * Math.max(1 - progress, 0) : coef;
  }

  dispose(): void {
    this.policy.dispose();
  }
}
