/**
 * Gov Workflow's face on the env server (envs/server): the member the vector env steps, plus the
 * reference's JSON observation, step info, state and JSON actions (its ActionModel) for the seeds'
 * clients. Index steps run the same calls as GovMember.step, so remote episodes equal local ones.
 */
import type { GradeResult } from '../core/env.js';
import type { EnvSpec } from '../core/registry.js';
import type { DriverStep } from '../core/session-driver.js';
import { MemberDriver } from '../core/session-driver.js';
import { parseGovAction } from './actions.js';
import type { GovResetOptions } from './env.js';
import type { GovMember } from './vector-member.js';

export class GovDriver extends MemberDriver {
  constructor(
    spec: EnvSpec,
    private readonly gov: GovMember,
  ) {
    super(spec, gov);
  }

  override reset(
    seed: number | undefined,
    extra: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
  ) {
    const env = this.gov.env;
    const { info } = env.reset({
      ...(seed === undefined ? {} : { seed }),
      ...(Object.keys(extra).length > 0 ? { options: extra as GovResetOptions } : {}),
    });
    env.observe(obs);
    env.actionMasksInto(mask);
    return info;
  }

  override step(action: Int32Array, obs: Float32Array, mask: Uint8Array, withInfo: boolean): DriverStep {
    const r = this.gov.env.step(action[0] as number, obs);
    this.gov.env.actionMasksInto(mask);
    const info = withInfo ? this.info(r.info) : null;
    return { reward: r.reward, terminated: r.terminated, truncated: r.truncated, info };
  }

  override stepNative(
    data: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
    withInfo: boolean,
  ): DriverStep {
    const r = this.gov.env.stepAction(parseGovAction(data), obs);
    this.gov.env.actionMasksInto(mask);
    const info = withInfo ? this.info(r.info) : null;
    return { reward: r.reward, terminated: r.terminated, truncated: r.truncated, info };
  }

  private info(rl: { action: unknown; env_reward: number }): unknown {
    const env = this.gov.env;
    // The reference's StepInfoModel of the step just taken, plus the decoded action and the env's own reward.
    const outcome = env.lastOutcome;
    return { ...(outcome ? env.inner.stepInfo(outcome) : {}), action: rl.action, env_reward: rl.env_reward };
  }

  override observationJson(): Record<string, unknown> {
    return { ...this.gov.env.inner.observation() };
  }

  override stateJson(options: { includeActionHistory?: boolean }): Record<string, unknown> {
    const { episode_id: _id, ...state } = this.gov.env.inner.state(options);
    return state;
  }

  override grade(): GradeResult {
    return this.gov.env.grade();
  }

  override describeAction(index: number): string {
    return this.gov.env.table.describe(index);
  }
}
