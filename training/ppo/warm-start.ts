/**
 * What a run starts from besides its initial weights: the imitation warm start (behaviour cloning of
 * a baseline agent, imitation.ts) and the anchor that the KL penalty pulls toward (the warm start's
 * weights, frozen; its logits over each rollout's observations are computed once per update).
 */
import type { DemonstrationRequest } from '../../agents/demonstrations.js';
import { collectDemonstrations, concatDemonstrations } from '../../agents/demonstrations.js';
import type { PolicySpec } from '../../agents/policy/policy.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { createStream } from '../../envs/core/random/streams.js';
import type { MetricRow } from '../logger.js';
import type { PpoConfig } from './config.js';
import { trainingTasks } from './config.js';
import type { ImitationEpoch } from './imitation.js';
import { cloneBehaviour, imitationRow } from './imitation.js';
import type { RolloutBuffer } from './rollout-buffer.js';

export interface ImitationResult {
  rows: MetricRow[];
  /** Mean grader score of the demonstration episodes (the imitated agent on the training seeds). */
  agentScore: number;
  steps: number;
  inexpressible: number;
}

/** Behaviour cloning of config.init_from_agent into `policy` (in place), then its DAgger rounds. */
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
  const request: DemonstrationRequest = {
    family,
    tasks: trainingTasks(config),
    envOptions: config.env.options,
    agent,
    episodesPerTask: im.episodes,
    seed: config.seed,
    gamma: config.gamma,
  };
  let t0 = performance.now();
  let demos = collectDemonstrations(request);
  const agentScore = demos.episodes.reduce((a, e) => a + e.score, 0) / demos.episodes.length;
  log(
    `[ppo] imitation: ${agent} played ${demos.episodes.length} episodes (${demos.size} steps, score ` +
      `${agentScore.toFixed(4)}${demos.inexpressible > 0 ? `, ${demos.inexpressible} steps without an index` : ''}) ` +
      `in ${seconds(t0)} s`,
  );
  // With reward scaling the critic learns scaled returns, which the demonstrations cannot give yet.
  const settings = {
    epochs: im.epochs,
    batchSize: im.batch_size,
    learningRate: im.learning_rate,
    valuePretrain: im.value_pretrain && !config.normalize_reward,
    entropyCoef: im.entropy_coef,
    adam: config.adam,
  };
  const rng = createStream(config.seed, 'imitation', 'minibatches');
  const rows: MetricRow[] = [];
  for (let round = 0; round <= im.dagger_rounds; round++) {
    if (round > 0) {
      t0 = performance.now();
      const learner = { act: (o: Float32Array, m: Uint8Array) => policy.predict(o, m), round };
      const corrections = collectDemonstrations({ ...request, learner });
      const score = corrections.episodes.reduce((a, e) => a + e.score, 0) / corrections.episodes.length;
      demos = concatDemonstrations(demos, corrections);
      log(
        `[ppo] imitation: DAgger round ${round}: the policy played ${corrections.episodes.length} episodes (score ` +
          `${score.toFixed(4)}), ${agent} labelled ${corrections.size} states in ${seconds(t0)} s`,
      );
    }
    const epochs = cloneBehaviour(policy, demos, settings, rng);
    for (const e of epochs) rows.push({ 'imitation/round': round, ...imitationRow(e, demos.size) });
    const last = epochs[epochs.length - 1] as ImitationEpoch;
    log(
      `[ppo] imitation: ${im.epochs} epochs on ${demos.size} steps, loss ${last.loss.toFixed(4)}, accuracy ` +
        `${last.accuracy.toFixed(4)}${last.valueLoss !== null ? `, value loss ${last.valueLoss.toFixed(4)}` : ''}`,
    );
  }
  return { rows, agentScore, steps: demos.size, inexpressible: demos.inexpressible };
}

const seconds = (t0: number): string => ((performance.now() - t0) / 1000).toFixed(1);

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
