/**
 * What a HelixDesk agent acts on at a step: the observation vector, its mask (every action is
 * allowed) and the action sizes — never the env itself. HelixTaskView adds what an LLM prompt shows
 * (the email's text, the team's loads), read from a live task env.
 */
import type { Email } from './emails.js';
import type { HelixTaskEnv } from './task-env.js';

export interface HelixAgentInput {
  readonly observation: Float32Array;
  /** 1 for every entry: HelixDesk masks nothing. */
  readonly mask: Uint8Array;
  /** [3, 4, n_employees + 1, 3]. */
  readonly nvec: readonly number[];
}

/** The input of a live task env, with the email and team state an LLM prompt shows. */
export class HelixTaskView implements HelixAgentInput {
  readonly nvec: readonly number[];
  readonly mask: Uint8Array;
  observation: Float32Array = new Float32Array(0);
  private seedValue = 0;
  private steps = 0;

  constructor(readonly env: HelixTaskEnv) {
    this.nvec = [...env.actionSpace.nvec];
    this.mask = new Uint8Array(this.nvec.reduce((a, b) => a + b, 0)).fill(1);
  }

  get task(): string {
    return this.env.task;
  }

  get seed(): number {
    return this.seedValue;
  }

  /** Steps taken so far in the episode. */
  get step(): number {
    return this.steps;
  }

  get nEmployees(): number {
    return (this.nvec[2] as number) - 1;
  }

  /** The email to decide on (subject, body, sender, tier, category, sentiment, keyword flag). */
  get email(): Email {
    return this.env.inner.currentEmail();
  }

  get employeeLoads(): Int32Array {
    return this.env.inner.employeeLoads();
  }

  get maxEmployeeLoad(): number {
    return this.env.inner.config.sla.max_employee_load;
  }

  /** A new episode started with this first observation. */
  begin(seed: number, observation: Float32Array): void {
    this.seedValue = seed;
    this.steps = 0;
    this.observation = observation;
  }

  /** A step was taken; `observation` is the next one. */
  record(observation: Float32Array): void {
    this.steps++;
    this.observation = observation;
  }
}
