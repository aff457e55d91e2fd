/** Errors that name what was wrong and what is allowed, so a user can fix the input at once. */

/** A malformed action: the env is unchanged and no step is counted. */
export class InvalidActionError extends Error {
  override readonly name = 'InvalidActionError';
  constructor(
    /** Dotted path of the offending field, e.g. `priority_mode` or `reallocation_delta.passport`. */
    readonly field: string,
    /** What the field may hold. */
    readonly allowed: string,
    /** What was received, as short text. */
    readonly received: string,
  ) {
    super(`invalid action: field '${field}' ${received}; allowed: ${allowed}`);
  }
}

/** `step()` after the episode has terminated or been truncated. */
export class EpisodeEndedError extends Error {
  override readonly name = 'EpisodeEndedError';
  constructor(envId: string) {
    super(`${envId}: the episode has ended (terminated or truncated); call reset() before step()`);
  }
}

/** `step()` before the first `reset()`. */
export class NotResetError extends Error {
  override readonly name = 'NotResetError';
  constructor(envId: string) {
    super(`${envId}: call reset() before step()`);
  }
}

/** An id (task, env, agent…) that is not known; the message lists the known ones. */
export class UnknownIdError extends Error {
  override readonly name = 'UnknownIdError';
  constructor(
    readonly kind: string,
    readonly received: string,
    readonly known: readonly string[],
  ) {
    super(`unknown ${kind} '${received}'; known ${kind}s: ${known.join(', ')}`);
  }
}

/** A bad configuration value: names the field and what it may hold. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(
    readonly field: string,
    readonly allowed: string,
    readonly received: string,
  ) {
    super(`invalid config: field '${field}' ${received}; allowed: ${allowed}`);
  }
}
