/**
 * The session driver of a served env (envs/core/session-driver.ts): the family's own where it has a
 * JSON face, else the generic MemberDriver (features, mask, reward, flags and the episode summary).
 */
import type { EnvSpec } from '../core/registry.js';
import type { SessionDriver } from '../core/session-driver.js';
import { MemberDriver } from '../core/session-driver.js';
import { GovDriver } from '../gov-workflow/served.js';
import { GovMember } from '../gov-workflow/vector-member.js';
import { HelixDriver } from '../helixdesk/served.js';
import { HelixMember } from '../helixdesk/vector-member.js';

/** The driver of member `memberIndex` of `spec`: with the family's JSON face where it has one. */
export function makeDriver(spec: EnvSpec, memberIndex: number): SessionDriver {
  const member = spec.makeMember(memberIndex);
  if (member instanceof GovMember) return new GovDriver(spec, member);
  if (member instanceof HelixMember) return new HelixDriver(spec, member);
  return new MemberDriver(spec, member);
}
