/**
 * HelixDesk's face on the env server (envs/server): the member the vector env steps, its step info,
 * and the seed's action form `{"action": [classify, priority, assign, secondary]}`. Index steps run
 * the same calls as HelixMember.step, so remote episodes equal local ones.
 */

import type { GradeResult } from '../core/env.js';
import { InvalidActionError, InvalidConfigError } from '../core/errors.js';
import type { EnvSpec } from '../core/registry.js';
import type { DriverStep } from '../core/session-driver.js';
import { MemberDriver } from '../core/session-driver.js';
import type { HelixMember } from './vector-member.js';

export class HelixDriver extends MemberDriver {
  private readonly action = new Int32Array(4);

  constructor(
    spec: EnvSpec,
    private readonly helix: HelixMember,
  ) {
    super(spec, helix);
  }

  override reset(
    seed: number | undefined,
    extra: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
  ) {
    const keys = Object.keys(extra);
    if (keys.length > 0)
      throw new InvalidConfigError(`options.${keys[0]}`, 'none (helixdesk resets take only a seed)', 'is not accepted');
    const { info } = this.helix.env.reset(seed === undefined ? {} : { seed }, obs);
    mask.fill(1);
    return info;
  }

  override step(action: Int32Array, obs: Float32Array, mask: Uint8Array, withInfo: boolean): DriverStep {
    const r = this.helix.env.step(action, obs);
    mask.fill(1);
    return { reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: withInfo ? r.info : null };
  }

  override stepNative(
    data: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
    withInfo: boolean,
  ): DriverStep | null {
    if (!('action' in data)) return null;
    const nvec = this.helix.env.actionSpace.nvec;
    const a = data.action;
    const allowed = `an array of ${nvec.length} integers, each in [0, n) for n = ${nvec.join(', ')}`;
    if (!Array.isArray(a) || a.length !== nvec.length)
      throw new InvalidActionError('action', allowed, `got ${JSON.stringify(a)?.slice(0, 60)}`);
    a.forEach((v, k) => {
      if (!Number.isInteger(v) || v < 0 || v >= (nvec[k] as number))
        throw new InvalidActionError(`action.${k}`, allowed, `got ${JSON.stringify(v)}`);
      this.action[k] = v as number;
    });
    return this.step(this.action, obs, mask, withInfo);
  }

  override stateJson(): Record<string, unknown> {
    return { task_id: this.helix.env.task };
  }

  override grade(): GradeResult {
    return this.helix.env.grade();
  }
}
